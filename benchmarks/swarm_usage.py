"""Usage sampling on a 2-node Swarm next to one engine (issue 29's Swarm row): /hub/health under
a prober through two usage passes, and the idle hub's CPU, with N labs running.

For each mode: one hub at production's intervals (usage every 30 s, servers polled every 30 s),
N users, each lab started through the portal's API with the stand-in lab image
(images/lab-standin: the lab image with a small HTTP server instead of JupyterLab, ~10 MiB a
container). On one engine the sampler
reads the labs' cgroup files after one listing (portal/docker/stats.py); on the Swarm each lab
is a service's task on one of the tests' two nodes (tests/support/swarm.py: engines on
127.0.0.2/.3 of this machine), located once and sampled with a stats call each over TCP. Then:
the hub's CPU over an idle window (no page open), the prober through two passes, and what the
passes sampled. Both modes share this machine's two cores: the figures are the hub's cost per
lab in each mode, not a second machine's gain.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.swarm_usage [--labs 200]
        [--only swarm|engine] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from typing import Any

from portal.platform.settings_parsers import duration
from tests.support.hub import Hub
from tests.support.swarm import Swarm, remove_stale_swarms

from .common import (
    arguments,
    bench_hub,
    create_plain_users,
    machine,
    portal_api,
    run,
    save,
    settle,
    start_servers,
)
from .hub_scale import cpu_window, usage_state
from .prober import Prober
from .stats import table

IMAGE = "dshub-lab-standin:latest"


def start_all(hub: Hub, users: list[str], bound: float) -> float:
    """Every lab started at once through the portal's API; seconds until all run."""
    t0 = time.monotonic()
    start_servers(hub, users, bound)
    return round(time.monotonic() - t0, 1)


def passes_under_prober(hub: Hub, passes: int, interval: float) -> dict[str, Any]:
    """/hub/health while the sampler makes `passes` more passes."""
    first, deadline = usage_state(hub)["passes"], time.monotonic() + (passes + 2) * 3 * interval
    with Prober("127.0.0.1", hub.ports["hub"], "/hub/health") as prober:
        while usage_state(hub)["passes"] < first + passes and time.monotonic() < deadline:
            time.sleep(0.5)
    return {**prober.summary(), **usage_state(hub)}


def run_mode(name: str, args: argparse.Namespace, env: dict[str, str],
             swarm: Swarm | None) -> dict[str, Any]:
    users = [f"su{i:03d}" for i in range(args.labs)]
    interval = duration(args.interval)
    env = {**env, "LAB_USAGE_INTERVAL": args.interval, "DSHUB_BENCH_POLL_INTERVAL": "30",
           "DSHUB_BENCH_IMAGES": json.dumps(dict.fromkeys(users, IMAGE))}
    with bench_hub(env) as hub:
        create_plain_users(hub, users)
        out: dict[str, Any] = {"labs": args.labs, "all_running_s": start_all(hub, users, 900)}
        if swarm is not None:
            api = swarm.manager.client().api
            names = {swarm.node_id(e): e.name for e in swarm.engines}
            out["labs_per_node"] = dict(Counter(
                names.get(t["NodeID"], "?") for t in api.tasks(
                    filters={"desired-state": "running"})))
        print(f"{name}: {args.labs} labs running in {out['all_running_s']} s", flush=True)
        settle(args, interval)  # past the starts' own CPU, into the steady state
        out["idle"] = {**cpu_window(hub.proc.pid, args.idle_window), **usage_state(hub)}
        out["usage passes"] = passes_under_prober(hub, 1 if args.quick else 2, interval)
        if out["usage passes"]["labs_sampled"] < args.labs:
            raise RuntimeError(f"{name}: {out['usage passes']['labs_sampled']} of {args.labs} "
                               "labs sampled")
        print(f"{name}: {out}", flush=True)
        for user in users:  # stopped through the hub, so nothing outlives it
            portal_api(hub, "POST", f"users/{user}/server/stop")
        time.sleep(5)
    return out


# Quick (CI): the code path on one engine, 2 labs, short windows (a Swarm's set-up is the
# full run's; swarm_spawn's quick run covers Swarm mode).
QUICK = {"labs": 2, "only": "engine", "idle_window": 2.0, "interval": "5s"}


def main() -> None:
    # A test hub has 100 host ports for its labs (tests/support/hub.py); these hubs get more.
    os.environ.setdefault("DSHUB_TEST_LAB_PORTS", "400")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", type=int, default=200)
    parser.add_argument("--idle-window", type=float, default=60.0)
    parser.add_argument("--interval", default="30s", help="LAB_USAGE_INTERVAL")
    parser.add_argument("--only", choices=["swarm", "engine"], default="")
    args = arguments(parser, QUICK)
    results: dict[str, Any] = {"machine": machine(), "labs": args.labs, "modes": {}}
    if args.only != "swarm":
        results["modes"]["one engine"] = run_mode("one engine", args, {}, None)
    if args.only != "engine":
        remove_stale_swarms()
        swarm = Swarm().start(image=IMAGE)
        try:
            env = {"DOCKER_SWARM": "1", "DOCKER_HOST": swarm.manager.url}
            results["modes"]["swarm, 2 nodes"] = run_mode("swarm, 2 nodes", args, env, swarm)
        finally:
            swarm.stop()
    print(report(results))
    save("swarm_usage", results, quick=args.quick)


def report(d: dict[str, Any]) -> str:
    rows = []
    for name, m in d["modes"].items():
        p, idle = m["usage passes"], m["idle"]
        rows.append([name, m["labs"], m["all_running_s"], idle["core_percent"],
                     p["p50_ms"], p["p99_ms"], p["max_ms"], p["labs_sampled"], p["last_pass_s"],
                     ", ".join(f"{k}: {v}" for k, v in sorted(m.get("labs_per_node", {}).items()))
                     or "-"])
    return table(["mode", "labs", "all running s", "idle hub % core", "health p50 ms",
                  "health p99 ms", "health max ms", "labs sampled", "last pass s",
                  "labs per node"], rows)


if __name__ == "__main__":
    run(main)
