"""Usage collection at scale: the hub's /hub/health p99, Docker calls per minute and hub CPU
while the background sampler (portal/usage.py) covers 500 stand-in labs.

The stand-ins (benchmarks/stubs.py) are running servers as far as the hub knows, without a
container: each costs the sampler one real Docker round trip per pass (answered 404), the same
count as a real lab. `--quick`: 100 stand-ins, a 10 s window.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.usage_collection [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import requests

from .broadcast_fanout import spawn_stubs
from .common import bench_hub, create_plain_users, machine, save
from .prober import Prober
from .stubs import Stubs


def usage(hub: Any) -> dict[str, Any]:
    r = requests.get(hub.hub_url("portal/api/usage"), timeout=30,
                     headers={"Authorization": f"token {hub.token}"})
    assert r.status_code == 200, r.text[:300]
    return r.json()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--stubs", type=int, default=500)
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--interval", default="10s", help="LAB_USAGE_INTERVAL of the hub")
    args = parser.parse_args()
    if args.quick:
        args.stubs, args.window = 100, 10.0
    results: dict[str, Any] = {"machine": machine(), "stand_ins": args.stubs,
                               "interval": args.interval, "window_s": args.window}
    with Stubs(args.stubs, 0) as stubs, bench_hub({"LAB_USAGE_INTERVAL": args.interval}) as hub:
        names = [f"stub{port}" for port, _ in stubs.ports]
        create_plain_users(hub, names)
        spawn_stubs(hub, names)
        time.sleep(15)  # let a pass or two see every stand-in
        target = ("127.0.0.1", hub.ports["hub"], "/hub/health")
        before, cpu0, t0 = usage(hub), cpu_seconds(hub.proc.pid), time.monotonic()
        with Prober(*target) as p:
            time.sleep(args.window)
        after, cpu1, elapsed = usage(hub), cpu_seconds(hub.proc.pid), time.monotonic() - t0
    calls = after["docker_calls"] - before["docker_calls"]
    results.update({
        "health": p.summary(), "docker_calls_per_min": round(calls / elapsed * 60, 1),
        "passes": after["passes"] - before["passes"],
        "last_pass_s": after["last_pass_seconds"],
        "hub_cpu_percent": round((cpu1 - cpu0) / elapsed * 100, 1),
    })
    if not args.quick:
        save("usage_collection", results)
    h = results["health"]
    print(f"{args.stubs} stand-ins, LAB_USAGE_INTERVAL={args.interval}, {args.window:.0f} s: "
          f"/hub/health p50 {h.get('p50_ms')} ms, p99 {h.get('p99_ms')} ms "
          f"(goal < 50 ms); Docker calls/min {results['docker_calls_per_min']}; "
          f"passes {results['passes']} (last {results['last_pass_s']} s); "
          f"hub CPU {results['hub_cpu_percent']}%")


if __name__ == "__main__":
    main()
