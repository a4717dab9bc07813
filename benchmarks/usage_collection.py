"""Usage collection: the hub's /hub/health p99, Docker calls per minute and hub CPU while the
background sampler (portal/governance/usage.py) covers 20 real running labs, then 500 stand-ins.

Each scenario has a hub of its own (a quick run's share one). Real labs: `dshub-lab:latest`
containers started through the portal's API (benchmarks/common.start_servers), measured once
every one has a usage sample. Stand-ins (benchmarks/stubs.py): running servers as far as the
hub knows, without a container: each costs the sampler one real Docker round trip per pass
(answered 404), the same count as a real lab. `--quick`: 1 lab, 10 stand-ins, a 6 s window at
a 5 s interval.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.usage_collection [--quick] \
        [--only labs|stubs] [--before REV]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import requests

from portal.platform.settings_parsers import duration

from .broadcast_fanout import spawn_stubs
from .common import (
    arguments,
    bench_hub,
    code_at,
    create_plain_users,
    gc_pauses,
    machine,
    run,
    save,
    settle,
    short_rev,
    start_servers,
)
from .prober import Prober
from .stats import measured, table
from .stubs import Stubs

QUICK = {"labs": 1, "stubs": 10, "window": 6.0, "interval": "5s"}


def usage(hub: Any) -> dict[str, Any]:
    r = requests.get(hub.hub_url("portal/api/usage"), timeout=30,
                     headers={"Authorization": f"token {hub.token}"})
    assert r.status_code == 200, r.text[:300]
    return r.json()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(what: str, done: Callable[[dict[str, Any]], bool], hub: Any, bound: float) -> None:
    deadline = time.monotonic() + bound
    while not done(usage(hub)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {bound:.0f} s")
        time.sleep(1)


def window(hub: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The figures of one measured window, the prober on."""
    target = ("127.0.0.1", hub.ports["hub"], "/hub/health")
    before, cpu0, t0 = usage(hub), cpu_seconds(hub.proc.pid), time.monotonic()
    with Prober(*target) as p:
        time.sleep(args.window)
    after, cpu1, elapsed = usage(hub), cpu_seconds(hub.proc.pid), time.monotonic() - t0
    calls = measured("Docker calls of the sampler in the window",
                     after["docker_calls"] - before["docker_calls"])
    return {
        "health": p.summary(), "slow_probes": sum(1 for q in p.probes if q.seconds > 0.05),
        # The hub's GC pauses >= 20 ms in the window [s into it, generation, ms]: a stall that
        # is one of these is not a blocking call.
        "hub_gc": gc_pauses(hub, p.started_at, p.started_at + p.window),
        "docker_calls_per_min": round(calls / elapsed * 60, 1),
        "passes": after["passes"] - before["passes"], "last_pass_s": after["last_pass_seconds"],
        "hub_cpu_percent": round((cpu1 - cpu0) / elapsed * 100, 1),
        "sampled_labs": len(after["labs"]),
    }


def real_labs(args: argparse.Namespace, hub: Any) -> dict[str, Any]:
    interval = duration(args.interval)
    users = [f"use{i:02d}" for i in range(args.labs)]
    create_plain_users(hub, users)
    t0 = time.monotonic()
    start_servers(hub, users, timeout=300)
    started = round(time.monotonic() - t0, 1)
    # Every lab sampled twice (its CPU figure needs two samples); quick: once.
    wait_for("a sample of every lab", lambda u: sum(
        args.quick or lab["cpus"] is not None for lab in u["labs"]) == len(users),
        hub, 4 * interval + 30)
    settle(args, 20)  # the labs' start-up CPU is over
    result = {"labs": len(users), "labs_started_s": started, **window(hub, args)}
    measured("labs with a usage sample", result["sampled_labs"], expected=len(users))
    return result


def stand_ins(args: argparse.Namespace, hub: Any) -> dict[str, Any]:
    interval = duration(args.interval)
    with Stubs(args.stubs, 0) as stubs:
        names = [f"stub{port}" for port, _ in stubs.ports]
        create_plain_users(hub, names)
        spawn_stubs(hub, names)
        first = usage(hub)["passes"]
        # Two passes begun after every stand-in runs (quick: one): the window sees them all.
        wait_for("sampling passes over every stand-in",
                 lambda u: u["passes"] >= first + (1 if args.quick else 2), hub, 3 * interval + 30)
        return {"stand_ins": len(names), **window(hub, args)}


SCENARIOS = {"labs": ("real labs", real_labs), "stubs": ("stand-ins", stand_ins)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", type=int, default=20, help="real running labs")
    parser.add_argument("--stubs", type=int, default=500, help="stand-in servers")
    parser.add_argument("--only", choices=sorted(SCENARIOS), default="",
                        help="one scenario (default: both, one after the other)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--interval", default="10s", help="LAB_USAGE_INTERVAL of the hub (s)")
    parser.add_argument("--before", default="",
                        help="git revision: the stand-ins on that code first, in the same run")
    args = arguments(parser, QUICK)
    results: dict[str, Any] = {"machine": machine(), "interval": args.interval,
                               "window_s": args.window, "scenarios": {}}
    hub_env = {"LAB_USAGE_INTERVAL": args.interval}
    if args.before:  # the stand-ins on the code before a change first, in this session
        with code_at(args.before) as tree, bench_hub(hub_env, code=tree) as hub:
            results["scenarios"][f"stand-ins, {short_rev(args.before)}"] = stand_ins(args, hub)
    keys = [args.only] if args.only else list(SCENARIOS)
    # Each scenario on a hub of its own; a quick run has both on one (a hub start fewer in CI;
    # its stand-ins' window then also covers the lab).
    for group in [keys] if args.quick else [[key] for key in keys]:
        with bench_hub(hub_env) as hub:
            for key in group:
                name, scenario = SCENARIOS[key]
                results["scenarios"][name] = scenario(args, hub)
    rows = []
    for name, s in results["scenarios"].items():
        h = s["health"]
        rows.append([f"{s.get('labs', s.get('stand_ins'))} {name}", h["n"], h["p50_ms"],
                     h["p99_ms"], h["max_ms"], s["slow_probes"], s["hub_gc"],
                     "met" if h["p99_ms"] < 50 else "missed",
                     s["docker_calls_per_min"], f"{s['passes']} (last {s['last_pass_s']} s)",
                     s["hub_cpu_percent"]])
    print(f"LAB_USAGE_INTERVAL={args.interval}, {args.window:.0f} s windows")
    print(table(["sampled", "probes", "/hub/health p50 ms", "p99 ms", "max ms", "probes > 50 ms",
                 "hub GC [s, gen, ms]", "p99 < 50 ms",
                 "Docker calls/min", "passes", "hub CPU %"], rows))
    save("usage_collection" + (f"_{args.only}" if args.only else ""), results, quick=args.quick)


if __name__ == "__main__":
    run(main)
