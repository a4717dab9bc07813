"""Broadcast fan-out through the real sending code (portal/broadcast.py), with the prober on.

1. 10 real running labs (dshub-lab with the notifications extension): every one must get the
   message (checked in each lab's own queue).
2. 1,000 loopback stand-ins (benchmarks/stubs.py), reached by the hub exactly like labs: each is
   the running "server" of a user stub<port> (the benchmark config's spawner starts no container
   for them); 10% never answer. Every answering one must be delivered, and the whole send done
   within the per-server timeout + 1 s, with the /hub/health prober's p99 under 50 ms.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.broadcast_fanout [--quick]
    (--concurrency N: a what-if run with another bound on concurrent sends)
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from portal.broadcast import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT

from .common import (
    arguments,
    bench_hub,
    create_plain_users,
    gc_pauses,
    machine,
    run,
    save,
    settle,
    start_servers,
)
from .prober import Prober
from .stats import measured, table
from .stubs import Stubs

EXT = "jupyterlab-notifications-extension"
QUICK = {"labs": 2, "stubs": 20, "idle_seconds": 0.5, "lab_sends": 2}


def spawn_stubs(hub: Any, names: list[str]) -> None:
    """Start each stub user's "server" through the hub's REST API (the hub checks it, adds a
    proxy route, records it), at most 50 at once (the hub's own limit is 100 pending)."""
    def spawn(name: str) -> int:
        return hub.api("POST", f"users/{name}/server", timeout=120).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(spawn, names))
    assert set(codes) <= {201, 202}, sorted(set(codes))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready = 0
        for offset in range(0, len(names) + 200, 200):
            page = hub.api("GET", "users", params={"state": "ready", "offset": offset,
                                                   "limit": 200}).json()
            ready += sum(1 for u in page if u["name"].startswith("stub"))
        if ready == len(names):
            return
        time.sleep(1)
    raise TimeoutError(f"only {ready} of {len(names)} stub servers ready")


def broadcast(hub: Any, group: str, message: str) -> tuple[dict[str, Any], float]:
    t0 = time.perf_counter()
    r = requests.post(hub.hub_url("portal/api/broadcasts"), timeout=600,
                      headers={"Authorization": f"token {hub.token}"},
                      json={"message": message, "type": "info", "auto_close": 5,
                            "recipients": {"groups": [group]}})
    seconds = time.perf_counter() - t0
    assert r.status_code == 200, r.text[:300]
    return r.json(), seconds


def drained(hub: Any, user: str) -> list[str]:
    r = requests.get(f"{hub.url}user/{user}/{EXT}/notifications", timeout=30,
                     headers={"Authorization": f"token {hub.token}"})
    assert r.status_code == 200, (user, r.status_code, r.text[:200])
    return [n.get("message", "") for n in r.json()["notifications"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", type=int, default=10)
    parser.add_argument("--stubs", type=int, default=1000)
    parser.add_argument("--hang-every", type=int, default=10, help="every Nth stub never answers")
    parser.add_argument("--concurrency", type=int, default=0,
                        help=f"what-if bound on concurrent sends (portal's: {DEFAULT_CONCURRENCY})")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--lab-sends", type=int, default=20, help="sends to the labs")
    args = arguments(parser, QUICK)
    labs = [f"lab{i}" for i in range(args.labs)]
    env = {}
    if args.concurrency:
        env["DSHUB_BENCH_BROADCAST_CONCURRENCY"] = str(args.concurrency)
    concurrency = args.concurrency or DEFAULT_CONCURRENCY
    results: dict[str, Any] = {
        "machine": machine(), "per_server_timeout_s": DEFAULT_TIMEOUT,
        "concurrency": concurrency, "goal_s": DEFAULT_TIMEOUT + 1, "scenarios": {},
    }
    scenarios = results["scenarios"]
    with Stubs(args.stubs, args.hang_every) as stubs, bench_hub(env) as hub:
        target = ("127.0.0.1", hub.ports["hub"], "/hub/health")
        stub_names = [f"stub{port}" for port, _ in stubs.ports]
        hung = sum(1 for _, h in stubs.ports if h)
        create_plain_users(hub, labs + stub_names)
        groups = {"labs": labs, "stubs": stub_names}
        for group, members in groups.items():
            r = hub.api("POST", f"groups/{group}", json={"users": members})
            assert r.status_code == 201, r.text[:300]
        start_servers(hub, labs)
        t0 = time.perf_counter()
        spawn_stubs(hub, stub_names)
        results["stub_spawn_s"] = round(time.perf_counter() - t0, 1)
        settle(args, 3)
        with Prober(*target) as p:
            time.sleep(args.idle_seconds)
        scenarios["idle hub"] = {
            **p.summary(), "hub_gc": gc_pauses(hub, p.started_at, p.started_at + p.window)}

        # One send to 10 labs lasts ~0.1 s: several in one prober window give it probes enough.
        rounds = {"labs": args.lab_sends, "stubs": 1}
        for group, expect in (("labs", len(labs)), ("stubs", len(stub_names) - hung)):
            with Prober(*target) as p:
                sends = [broadcast(hub, group, f"Benchmark broadcast {i} to {group}")
                         for i in range(rounds[group])]
            outcomes = [o for o, _ in sends]
            measured(f"recipients of the broadcast to {group}", outcomes[-1]["results"],
                     len(groups[group]))
            reasons: dict[str, int] = {}
            for row in outcomes[-1]["results"]:
                reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
            scenarios[f"broadcast to {group}"] = {
                **p.summary(), "hub_gc": gc_pauses(hub, p.started_at, p.started_at + p.window),
                "sends": len(sends), "targeted": outcomes[-1]["targeted"],
                "delivered": min(o["delivered"] for o in outcomes), "expected_delivered": expect,
                "failed": max(o["failed"] for o in outcomes), "reasons": reasons,
                "send_s": round(statistics.median(o["seconds"] for o in outcomes), 3),
                "send_s_each": [o["seconds"] for o in outcomes],
                "request_s": round(max(t for _, t in sends), 3),
            }
        # Every GC pause >= 20 ms of the hub during the whole run (spawns included).
        results["hub_gc_whole_run_ms"] = [ms for _, _, ms in gc_pauses(hub, 0, time.time())]
        # Every lab must hold every message in its own queue.
        received = {u: sum(m.startswith("Benchmark broadcast") for m in drained(hub, u))
                    for u in labs}
        measured("broadcasts found in the labs' queues", [n for n in received.values() if n])
        results["labs_received_all"] = sum(n == args.lab_sends for n in received.values())
    results["stub_side"] = {**stubs.seen, "hung_stubs": hung}

    rows = []
    for name, s in scenarios.items():
        rows.append([name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["hub_gc"],
                     f"{s['delivered']}/{s['expected_delivered']}" if "delivered" in s else "-",
                     s.get("send_s", "-")])
    print(table(["/hub/health prober during", "probes", "p50 ms", "p99 ms", "max ms",
                 "hub GC [s, gen, ms]", "delivered/expected", "send s"], rows))
    stubs_row = scenarios["broadcast to stubs"]
    verdict = "met" if stubs_row["send_s"] <= DEFAULT_TIMEOUT + 1 else "missed"
    print(f"{len(stub_names):,} stubs: {stubs_row['send_s']} s with concurrency {concurrency} "
          f"(goal <= {DEFAULT_TIMEOUT + 1} s: {verdict}); reasons {stubs_row['reasons']}")
    print(f"labs holding all {args.lab_sends} messages: {results['labs_received_all']}/"
          f"{len(labs)}; "
          f"stub side: {results['stub_side']}; stub servers started in {results['stub_spawn_s']} s")
    save("broadcast_fanout" + (f"_c{args.concurrency}" if args.concurrency else ""), results,
         args.quick)


if __name__ == "__main__":
    run(main)
