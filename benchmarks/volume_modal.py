"""Volume modal flood: does one user opening the volume modal 50 times a second hurt others?

While one user's modal is requested every 20 ms (its own process, never waiting for answers),
a prober GETs /hub/health every 20 ms and an admin restarts ANOTHER user's lab from the portal
(API, wait=true). The flooded user's volumes hold many small files, so each size computation
(`docker system df`) has work to do. Restarts are also timed without the flood.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.volume_modal \\
        [--before REV] [--quick]
(--before REV: the same scenario on the code at REV first, in the same session.)
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from tests.support.clients import Portal, ensure_stopped

from .child import Child
from .common import (
    bench_hub,
    code_at,
    container_name,
    cookie_header,
    create_accounts,
    docker_client,
    gc_pauses,
    machine,
    portal_api,
    quick_run,
    save,
    short_rev,
    start_servers,
)
from .prober import Prober
from .stats import summary, table

FLOODED, OTHER = "flooded", "other"


class Flood:
    def __init__(self, port: int, path: str, headers: dict[str, str], rate: float) -> None:
        self._child = Child("benchmarks.floods:modal_flood", [port, path, headers, rate],
                            "flood")
        self.answers: list[tuple[float, int, bool]] = []

    def __enter__(self) -> Flood:
        self._child.start()
        self._child.receive(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.answers = [tuple(a) for a in self._child.finish(90) or []]

    def summary(self) -> dict[str, Any]:
        ok = [s * 1000 for s, status, bad in self.answers if status == 200 and not bad]
        statuses: dict[str, int] = {}
        for _, status, _ in self.answers:
            statuses[str(status or "no answer")] = statuses.get(str(status or "no answer"), 0) + 1
        return {"requests": len(self.answers), "ok": len(ok),
                "docker_unreachable_or_failed": len(self.answers) - len(ok),
                "said_docker_unreachable": sum(1 for _, st, bad in self.answers
                                               if st == 200 and bad),
                "statuses": statuses,
                **{f"modal_{k}": v for k, v in summary(ok).items() if k != "n"}}


def fill(user: str, files: int) -> None:
    """`files` small files in the user's workspace, written inside the running lab."""
    script = (f"import os\nos.makedirs('/home/lab/workspace/fill', exist_ok=True)\n"
              f"for i in range({files}):\n"
              f"    open(f'/home/lab/workspace/fill/f{{i:06d}}', 'wb').write(b'x' * 4096)\n")
    code, out = docker_client().containers.get(container_name(user)).exec_run(
        ["python3", "-c", script])
    assert code == 0, out.decode(errors="replace")


def restarts(hub: Any, count: int) -> list[float]:
    """Restart the other user's lab through the portal's API; seconds until it answers."""
    took = []
    for _ in range(count):
        t0 = time.perf_counter()
        r = portal_api(hub, "POST", f"users/{OTHER}/server/restart", json={"wait": True})
        assert r.status_code == 200, r.text[:300]
        took.append(round(time.perf_counter() - t0, 2))
    return took


def run(args: argparse.Namespace, code: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with bench_hub(code=code) as hub:
        target = ("127.0.0.1", hub.ports["hub"], "/hub/health")
        admin = Portal(hub, "admin")
        create_accounts(admin, [FLOODED, OTHER])
        start_servers(hub, [FLOODED, OTHER])
        fill(FLOODED, args.files)
        flooded = Portal(hub, FLOODED)
        ensure_stopped(flooded)
        if not args.quick:  # steadier figures; a quick run's are not kept
            time.sleep(2)
        with Prober(*target) as p:
            out["restart s, no flood"] = restarts(hub, args.restarts)
        out["prober, no flood"] = {**p.summary(), "hub_gc": gc_pauses(
            hub, p.started_at, p.started_at + p.window)}
        headers = {"Cookie": cookie_header(flooded), "HX-Request": "true"}
        path = f"/hub/portal/users/{FLOODED}/volumes"
        with Flood(hub.ports["hub"], path, headers, args.rate) as flood:
            if not args.quick:
                time.sleep(2)  # the flood reaches its steady state first
            with Prober(*target) as p:
                out["restart s, flood"] = restarts(hub, args.restarts)
                time.sleep(max(0.0, args.flood_seconds - p.window))
        out["prober, flood"] = {**p.summary(), "hub_gc": gc_pauses(
            hub, p.started_at, p.started_at + p.window)}
        out["flood"] = flood.summary()
        log = hub.log_path.read_text(errors="replace")
        out["size measurements logged"] = log.count("Measured the sizes of")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="modal openings per second")
    parser.add_argument("--files", type=int, default=20_000, help="files in the flooded volume")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--flood-seconds", type=float, default=20.0)
    parser.add_argument("--before", default="",
                        help="git revision of the code before: run it first, same session")
    parser.add_argument("--quick", action="store_true",
                        help="200 files, 1 restart, 3 s of flood at 10/s (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.files, args.restarts, args.flood_seconds, args.rate = 200, 1, 3.0, 10.0
        quick_run()
    results: dict[str, Any] = {"machine": machine(), "rate_per_s": args.rate,
                               "files": args.files, "quick": args.quick, "runs": {}}
    if args.before:
        with code_at(args.before) as tree:
            results["runs"][f"before ({short_rev(args.before)})"] = run(args, tree)
    results["runs"]["after (this checkout)"] = run(args, None)

    rows = []
    for code, r in results["runs"].items():
        f = r["flood"]
        rows.append([code, r["prober, no flood"]["p99_ms"], r["prober, flood"]["p99_ms"],
                     r["prober, flood"]["max_ms"],
                     statistics.median(r["restart s, no flood"]),
                     statistics.median(r["restart s, flood"]), max(r["restart s, flood"]),
                     f"{f['ok']}/{f['requests']}", f.get("modal_p50_ms", "-"),
                     f.get("modal_p99_ms", "-"), r["size measurements logged"]])
    print(table(["code", "/hub/health p99 ms, no flood", "p99 ms, flood", "max ms, flood",
                 "other's restart s (median), no flood", "restart s (median), flood",
                 "restart s (max), flood", "modal answered/sent", "modal p50 ms",
                 "modal p99 ms", "size measurements"], rows))
    print(f"CPU: {results['machine']['cpu']} x {results['machine']['nproc']}")
    save("volume_modal", results, quick=args.quick)


if __name__ == "__main__":
    main()
