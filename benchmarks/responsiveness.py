"""Does the hub stay responsive while the portal does slow Docker work?

A prober (own process) GETs /hub/health every 20 ms without waiting for earlier answers, while
(a) a lab is restarted from the portal, once with a lab that stops at once and once with a lab
whose PID 1 ignores SIGTERM (Docker waits 10 s, then kills), and (b) three volumes holding
200 MB in 20,000 small files are reset. Same prober on the idle hub before and after.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.responsiveness [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import docker

from tests.support.clients import Portal, ensure_stopped

from .common import (
    PREFIX,
    ROOT,
    arguments,
    bench_hub,
    container_name,
    create_accounts,
    docker_client,
    gc_pauses,
    machine,
    run,
    save,
    server_state,
    settle,
    start_servers,
)
from .prober import Prober
from .stats import measured, table

STUBBORN_IMAGE = f"{PREFIX}lab-stubborn:latest"
DOCKERFILE = ROOT / "benchmarks" / "images" / "stubborn-lab.Dockerfile"
FILE_BYTES = 10_000  # 20,000 x 10 kB = 200 MB
# Where the files go (share of them): the home, workspace and cache volumes of one lab.
SPREAD = {"/home/lab/workspace/fill": 0.5, "/home/lab/.cache/fill": 0.25, "/home/lab/fill": 0.25}
# A quick run leaves out the stubborn lab (its image build, start and 10 s restart).
QUICK = {"idle_seconds": 1.0, "files": 200, "stubborn_restart": False}


def build_stubborn(client: docker.DockerClient) -> None:
    client.images.build(fileobj=io.BytesIO(DOCKERFILE.read_bytes()), tag=STUBBORN_IMAGE,
                        rm=True, forcerm=True, network_mode="host", pull=False)


def fill_volumes(client: docker.DockerClient, user: str, files: int) -> dict[str, Any]:
    """Write `files` files from inside the running lab (as its user), then measure them."""
    counts = {folder: round(files * share) for folder, share in SPREAD.items()}
    script = (
        "import os\n"
        f"block = os.urandom({FILE_BYTES})\n"
        f"for folder, count in {counts!r}.items():\n"
        "    os.makedirs(folder, exist_ok=True)\n"
        "    for i in range(count):\n"
        "        with open(f'{folder}/f{i:05d}', 'wb') as f:\n"
        "            f.write(block)\n"
    )
    container = client.containers.get(container_name(user))
    t0 = time.perf_counter()
    code, out = container.exec_run(["python3", "-c", script])
    assert code == 0, out.decode(errors="replace")
    seconds = time.perf_counter() - t0
    code, out = container.exec_run(["du", "-sb", *SPREAD])
    total = sum(int(line.split()[0]) for line in out.decode().splitlines())
    code, out = container.exec_run(["sh", "-c", f"find {' '.join(SPREAD)} -type f | wc -l"])
    found = int(out.decode().strip())
    measured(f"files written to {user}'s volumes", found, sum(counts.values()))
    return {"bytes": total, "files": found, "fill_s": round(seconds, 1)}


def timed_under_probe(hub: Any, target: tuple[str, int, str],
                      action: Callable[[], Any]) -> dict[str, Any]:
    with Prober(*target) as p:
        t0 = time.perf_counter()
        outcome = action()
        seconds = time.perf_counter() - t0
    gc = gc_pauses(hub, p.started_at, p.started_at + p.window)
    return {**p.summary(), "action_s": round(seconds, 2), "outcome": outcome, "hub_gc": gc}


def idle(hub: Any, target: tuple[str, int, str], seconds: float) -> dict[str, Any]:
    result = timed_under_probe(hub, target, lambda: time.sleep(seconds))
    del result["action_s"], result["outcome"]
    return result


def freeze(pid: int, seconds: float) -> str:
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)
    return f"SIGSTOP {seconds:.0f} s"


def restart_and_wait(portal: Portal, hub: Any, user: str) -> str:
    """POST restart as the portal's page does; wait until the card is back to running."""
    r = portal.post(f"portal/users/{user}/restart")
    assert r.status_code == 200 and 'data-state="restarting"' in r.text, r.text[:300]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = server_state(hub, user)
        if state["state"] != "restarting":
            return f"{state['state']} {state['detail']}".strip()
        time.sleep(0.25)
    raise TimeoutError(f"{user}'s lab still restarting after 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--via", choices=["hub", "proxy"], default="hub",
                        help="probe the hub's own port (default) or through the proxy")
    parser.add_argument("--no-stubborn-restart", dest="stubborn_restart", action="store_false",
                        help="skip the restart of the lab that ignores SIGTERM (10 s)")
    parser.add_argument("--files", type=int, default=20_000,
                        help=f"files of {FILE_BYTES // 1000} kB written, then reset")
    args = arguments(parser, QUICK)
    megabytes = f"{args.files * FILE_BYTES / 1e6:.0f} MB"
    client = docker_client()
    if args.stubborn_restart:
        build_stubborn(client)
    results: dict[str, Any] = {"machine": machine(), "scenarios": {}}
    scenarios = results["scenarios"]
    env = {"DSHUB_BENCH_IMAGES": json.dumps({"stubborn": STUBBORN_IMAGE})}
    try:
        with bench_hub(env) as hub:
            # The hub's own port by default: its event loop, without the proxy's jitter.
            port = hub.ports["hub"] if args.via == "hub" else hub.ports["proxy"]
            target = ("127.0.0.1", port, "/hub/health")
            results["probe"] = {"via": args.via, "interval_ms": 20, "path": target[2]}
            admin = Portal(hub, "admin")
            # A quick run fills the restarted lab's volumes instead of a lab of their own: one
            # lab start fewer in CI (the full run keeps the restarted lab's volumes empty).
            filler = "quick" if args.quick else "filler"
            users = list(dict.fromkeys(
                ["quick", *(["stubborn"] if args.stubborn_restart else []), filler]))
            create_accounts(admin, users)
            start_servers(hub, users)
            settle(args, 3)  # the labs' start-up CPU, before the idle baseline

            scenarios["idle hub"] = idle(hub, target, args.idle_seconds)
            # Control: what a blocked event loop looks like to this prober (hub frozen 1 s).
            scenarios["control: hub process frozen 1 s"] = timed_under_probe(
                hub, target, lambda: freeze(hub.proc.pid, 1.0))
            scenarios["restart, lab stops at once"] = timed_under_probe(
                hub, target, lambda: restart_and_wait(admin, hub, "quick"))
            if args.stubborn_restart:
                scenarios["restart, lab ignores SIGTERM (10 s)"] = timed_under_probe(
                    hub, target, lambda: restart_and_wait(admin, hub, "stubborn"))

            filled = fill_volumes(client, filler, args.files)
            results["filled"] = filled
            ensure_stopped(admin, filler)
            scenarios[f"volume sizes (modal) over {megabytes}"] = timed_under_probe(
                hub, target, lambda: admin.get(f"portal/users/{filler}/volumes").status_code)

            def reset() -> str:
                r = admin.post(f"portal/users/{filler}/volumes/reset", {
                    "volume": ["home", "workspace", "cache"], "confirm": "yes"})
                assert r.status_code == 200, r.text[:300]
                return " ".join(r.text.split())[:160]

            scenarios[f"reset 3 volumes, {megabytes} in {args.files:,} files"] = timed_under_probe(
                hub, target, reset)
            left = [v.name for v in client.volumes.list(filters={"name": filler})]
            results["volumes_left_after_reset"] = left
            scenarios["idle hub (after)"] = idle(hub, target, args.idle_seconds)
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(STUBBORN_IMAGE, force=True)

    print(f"\nfilled: {results['filled']}")
    rows = [[name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["failed"],
             s.get("action_s", "-"), s["hub_gc"]]
            for name, s in scenarios.items()]
    print(table(["/hub/health prober (every 20 ms)", "probes", "p50 ms", "p99 ms", "max ms",
                 "failed", "action s", "hub GC [s, gen, ms]"], rows))
    for name, s in scenarios.items():
        if s.get("outcome") is not None:
            print(f"{name}: {s['outcome']}")
    save("responsiveness", results, args.quick)


if __name__ == "__main__":
    run(main)
