"""Does the hub stay responsive while strangers guess passwords as fast as they can?

20 clients, each from a loopback address of its own (127.0.0.11 ...), POST wrong passwords for
the admin account to /hub/login through the proxy without pause (keep-alive, one request in
flight each), while the prober (own process) GETs /hub/health on the hub's own port every
20 ms. Figures: the probes' p50/p99 on the idle hub and under the flood, and what the flood got
(login pages, 429 refusals).

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.signin_abuse [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from .common import bench_hub, machine, proxy_address, save
from .http import Connection
from .prober import Prober
from .stats import table

GOAL_P99_MS = 50.0


async def _client(host: str, port: int, base: str, source: str, until: float,
                  counts: Counter) -> None:
    conn = Connection(host, port, local_addr=(source, 0))
    try:
        page = await conn.request("GET", f"{base}hub/login")
        cookie = page.headers.get("set-cookie", "").split(";", 1)[0]  # _xsrf=...
        token = cookie.split("=", 1)[1] if "=" in cookie else ""
        body = urlencode({"username": "admin", "password": "not-the-password",
                          "_xsrf": token}).encode()
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        while time.monotonic() < until:
            r = await conn.request("POST", f"{base}hub/login", headers, body)
            counts[r.status] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        counts[type(e).__name__] += 1
    finally:
        await conn.close()


def _flood(host: str, port: int, base: str, clients: int, seconds: float, out: Any) -> None:
    async def run() -> Counter:
        counts: Counter = Counter()
        until = time.monotonic() + seconds
        await asyncio.gather(*(_client(host, port, base, f"127.0.0.{11 + i}", until, counts)
                               for i in range(clients)))
        return counts

    out.send(dict(asyncio.run(run())))
    out.close()


def flood(target: tuple[str, int, str], clients: int, seconds: float) -> dict[str, int]:
    """The wrong-password flood in a process of its own (its GIL never delays the prober)."""
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_flood, args=(*target, clients, seconds, send), daemon=True)
    proc.start()
    counts = recv.recv() if recv.poll(seconds + 120) else {}
    proc.join(10)
    if proc.is_alive():
        proc.kill()
    return {str(k): v for k, v in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds (CI)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--label", default="", help="e.g. before / after, kept in the results")
    args = parser.parse_args()
    seconds, idle = (2.0, 1.0) if args.quick else (args.seconds, 5.0)
    results: dict[str, Any] = {"machine": machine(), "label": args.label,
                               "clients": args.clients, "flood_s": seconds}
    with bench_hub() as hub:
        # The flood comes through the proxy like any browser; the prober asks the hub's own
        # port (its event loop without the proxy's jitter, as in benchmarks.responsiveness).
        target = proxy_address(hub)
        probe_at = ("127.0.0.1", hub.ports["hub"], "/hub/health")
        with Prober(*probe_at) as idle_probe:
            time.sleep(idle)
        with Prober(*probe_at) as probe:
            answers = flood(target, args.clients, seconds)
        results["idle"] = idle_probe.summary()
        results["flood"] = probe.summary()
        results["answers"] = answers
        results["attempts_per_s"] = round(sum(answers.values()) / seconds, 1)
    rows = [[name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["failed"]]
            for name, s in (("idle", results["idle"]), ("flood", results["flood"]))]
    print(table(["/hub/health", "probes", "p50 ms", "p99 ms", "max ms", "failed"], rows))
    print(f"flood: {args.clients} clients, {seconds:.0f} s, answers {answers} "
          f"({results['attempts_per_s']}/s); goal p99 < {GOAL_P99_MS:.0f} ms")
    if not args.quick:
        save("signin_abuse" + (f"_{args.label}" if args.label else ""), results)


if __name__ == "__main__":
    main()
