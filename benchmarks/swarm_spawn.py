"""Spawning many labs at once: a 2-node Swarm (DOCKER_SWARM=1) next to one Docker engine.

For each mode: one hub, N accounts, N starts sent together through the portal's API, then
the time until every lab is running (the hub saw it answer), per-lab times, and the hub's
/hub/health latency from the prober (own process, every 20 ms) over that window. The swarm is
the tests' one (tests/support/swarm.py: two extra engines on this machine, 127.0.0.2/.3), so
both modes share the same two cores: this measures Swarm mode's overhead and placement, not
the gain of adding machines. Setting up the swarm (~30 s, mostly loading the image into both
engines) is not counted.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.swarm_spawn [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from tests.support.clients import Portal
from tests.support.swarm import Swarm, remove_stale_swarms

from .common import (
    bench_hub,
    create_accounts,
    machine,
    portal_api,
    quick_run,
    save,
    server_state,
)
from .prober import Prober
from .stats import summary, table


def spawn_all(hub: Any, users: list[str], bound: float) -> dict[str, float]:
    """Send every start at once; seconds from the first request until each lab runs."""
    t0 = time.perf_counter()
    for user in users:
        r = portal_api(hub, "POST", f"users/{user}/server/start")
        assert r.status_code == 202, r.text[:300]
    ready: dict[str, float] = {}
    while len(ready) < len(users):
        for user in users:
            if user in ready:
                continue
            state = server_state(hub, user)
            if state["state"] == "running":
                ready[user] = time.perf_counter() - t0
            elif state["state"] == "failed":
                raise RuntimeError(f"{user}'s lab failed: {state['detail']}")
        if time.perf_counter() - t0 > bound:
            raise TimeoutError(f"not running after {bound} s: {sorted(set(users) - set(ready))}")
        time.sleep(0.25)
    return ready


def run_mode(name: str, labs: int, env: dict[str, str], swarm: Swarm | None) -> dict[str, Any]:
    users = [f"sw{i:02d}" for i in range(labs)]
    with bench_hub(env) as hub:
        create_accounts(Portal(hub, "admin"), users)
        host, port = "127.0.0.1", hub.ports["hub"]
        with Prober(host, port, "/hub/health") as prober:
            ready = spawn_all(hub, users, bound=300)
        result: dict[str, Any] = {
            "labs": labs, "all_ready_s": round(max(ready.values()), 2),
            "lab_ready": summary([s * 1000 for s in ready.values()]),
            "prober": prober.summary(),
        }
        if swarm is not None:
            api = swarm.manager.client().api
            names = {swarm.node_id(e): e.name for e in swarm.engines}
            per_node = Counter(
                names.get(t["NodeID"], "?") for t in api.tasks(filters={"desired-state": "running"})
            )
            result["labs_per_node"] = dict(per_node)
        for user in users:  # stop through the hub, so nothing outlives it
            portal_api(hub, "POST", f"users/{user}/server/stop")
        time.sleep(2)
    print(f"{name}: all {labs} ready in {result['all_ready_s']} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", type=int, default=20)
    parser.add_argument("--quick", action="store_true",
                        help="2 labs (one a node), on the swarm only: a check")
    args = parser.parse_args()
    labs = 2 if args.quick else args.labs
    if args.quick:
        quick_run()
    results: dict[str, Any] = {"machine": machine(), "labs": labs, "modes": {}}
    # A quick run checks the Swarm path only: every other quick benchmark starts labs on one
    # engine (this mode cost CI a hub and two lab starts for nothing it would not see).
    if not args.quick:
        results["modes"]["one engine"] = run_mode("one engine", labs, {}, None)
    remove_stale_swarms()
    swarm = Swarm().start()
    try:
        results["swarm_setup_s"] = round(swarm.load_seconds, 1)
        env = {"DOCKER_SWARM": "1", "DOCKER_HOST": swarm.manager.url}
        results["modes"]["swarm, 2 nodes"] = run_mode("swarm, 2 nodes", labs, env, swarm)
    finally:
        swarm.stop()
    print(report(results))
    if not args.quick:
        save("swarm_spawn", results)


def report(d: dict[str, Any]) -> str:
    rows = []
    for name, m in d["modes"].items():
        rows.append([name, m["labs"], m["all_ready_s"], m["lab_ready"]["p50_ms"] / 1000,
                     m["prober"]["p50_ms"], m["prober"]["p99_ms"], m["prober"]["max_ms"],
                     m["prober"]["failed"],
                     ", ".join(f"{k}: {v}" for k, v in sorted(m.get("labs_per_node", {}).items()))
                     or "-"])
    return table(["mode", "labs", "all ready s", "median lab s", "hub p50 ms", "hub p99 ms",
                  "hub max ms", "failed probes", "labs per node"], rows)


if __name__ == "__main__":
    main()
