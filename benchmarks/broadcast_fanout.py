"""Broadcast fan-out through the real sending code (portal/broadcast/broadcaster.py), prober on.

1. 10 real running labs (dshub-lab with the notifications extension): every one must get the
   message (checked in each lab's own queue).
2. 1,000 loopback stand-ins (benchmarks/stubs.py), reached by the hub exactly like labs: each is
   the running "server" of a user stub<port> (the benchmark config's spawner starts no container
   for them); 10% never answer. Every answering one must be delivered, and the whole send done
   within the per-server timeout + 1 s, with the /hub/health prober's p99 under 50 ms; then
   two broadcasts to them, the second sent while the first still runs: the same goal for both.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.broadcast_fanout \
        [--before REV] [--quick]
    (--before REV: the same scenario on the code at REV first, in the same session;
     --quick: 20 stubs, 2 labs, seconds; --concurrency N: what-if bound on concurrent sends)
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from portal.broadcast.broadcaster import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT

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
from .stats import table
from .stubs import Stubs

EXT = "jupyterlab-notifications-extension"
LABS = [f"lab{i}" for i in range(10)]
# Quick: one lab, 10 stand-ins of which 2 never answer (the per-server timeout still runs).
QUICK = {"labs": 1, "stubs": 10, "hang_every": 5, "idle_seconds": 0.5, "lab_sends": 2,
         "overlap": 0.2}


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


def stub_rounds(hub: Any, target: tuple, expect: int, overlap: float) -> dict[str, Any]:
    """One broadcast to every stub, then two more, the second sent `overlap` s after the first
    (while it still runs: its silent stubs hold it for the per-server timeout)."""
    out: dict[str, Any] = {}
    for label, delays in (("broadcast to stubs", [0.0]),
                          ("two overlapping broadcasts to stubs", [0.0, overlap])):
        with Prober(*target) as p, ThreadPoolExecutor(max_workers=2) as pool:
            futures = []
            for i, delay in enumerate(delays):
                time.sleep(delay)
                futures.append(pool.submit(broadcast, hub, "stubs", f"{label} {i}"))
            sends = [f.result() for f in futures]
        outcomes = [o for o, _ in sends]
        reasons: dict[str, int] = {}
        for row in outcomes[-1]["results"]:
            reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
        out[label] = {
            **p.summary(), "hub_gc": gc_pauses(hub, p.started_at, p.started_at + p.window),
            "sends": len(sends), "targeted": outcomes[-1]["targeted"],
            "delivered": min(o["delivered"] for o in outcomes), "expected_delivered": expect,
            "failed": max(o["failed"] for o in outcomes), "reasons": reasons,
            "send_s": round(max(o["seconds"] for o in outcomes), 3),
            "send_s_each": [o["seconds"] for o in outcomes],
            "request_s": round(max(t for _, t in sends), 3),
        }
    return out


def scenario(args: argparse.Namespace, labs: list[str], code: Any = None) -> dict[str, Any]:
    """The whole scenario on one hub (`code`: a tree of the code before, see common.code_at)."""
    # The hub samples usage at its default interval, as in production: the tests' 5 s would
    # take 1,000 stats calls every 5 s, six times a real hub's load, beside the broadcast.
    env = {"LAB_USAGE_INTERVAL": "30s"}
    if args.concurrency:
        env["DSHUB_BENCH_BROADCAST_CONCURRENCY"] = str(args.concurrency)
    results: dict[str, Any] = {"scenarios": {}}
    scenarios = results["scenarios"]
    with Stubs(args.stubs, args.hang_every) as stubs, bench_hub(env, code) as hub:
        target = ("127.0.0.1", hub.ports["hub"], "/hub/health")
        stub_names = [f"stub{port}" for port, _ in stubs.ports]
        hung = sum(1 for _, h in stubs.ports if h)
        create_plain_users(hub, labs + stub_names)
        for group, members in (("labs", labs), ("stubs", stub_names)):
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

        # One send to the labs lasts ~0.1 s: several in one prober window give it probes enough.
        with Prober(*target) as p:
            sends = [broadcast(hub, "labs", f"Benchmark broadcast {i} to labs")
                     for i in range(args.lab_sends)]
        outcomes = [o for o, _ in sends]
        scenarios["broadcast to labs"] = {
            **p.summary(), "hub_gc": gc_pauses(hub, p.started_at, p.started_at + p.window),
            "sends": len(sends), "targeted": outcomes[-1]["targeted"],
            "delivered": min(o["delivered"] for o in outcomes), "expected_delivered": len(labs),
            "failed": max(o["failed"] for o in outcomes),
            "send_s": round(statistics.median(o["seconds"] for o in outcomes), 3),
        }
        scenarios.update(stub_rounds(hub, target, len(stub_names) - hung, args.overlap))
        # Every GC pause >= 20 ms of the hub during the whole run (spawns included).
        results["hub_gc_whole_run_ms"] = [ms for _, _, ms in gc_pauses(hub, 0, time.time())]
        # Every lab must hold every message in its own queue.
        results["labs_received_all"] = sum(
            1 for u in labs
            if sum(m.startswith("Benchmark broadcast") for m in drained(hub, u)) == args.lab_sends
        )
    results["stub_side"] = {**stubs.seen, "hung_stubs": hung}
    return results


def verdict(row: dict[str, Any]) -> str:
    ok = row["send_s"] <= DEFAULT_TIMEOUT + 1 and row["p99_ms"] < 50
    return "met" if ok and row["delivered"] == row["expected_delivered"] else "missed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stubs", type=int, default=1000)
    parser.add_argument("--hang-every", type=int, default=10, help="every Nth stub never answers")
    parser.add_argument("--concurrency", type=int, default=0,
                        help=f"what-if bound on concurrent sends (portal's: {DEFAULT_CONCURRENCY})")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--lab-sends", type=int, default=20, help="sends to the labs")
    parser.add_argument("--overlap", type=float, default=1.0,
                        help="seconds between the two overlapping broadcasts")
    parser.add_argument("--before", default="",
                        help="git revision of the code before: run it first, same session")
    parser.add_argument("--labs", type=int, default=len(LABS), help="real labs (at most 10)")
    args = arguments(parser, QUICK)
    labs = LABS[:args.labs]
    concurrency = args.concurrency or DEFAULT_CONCURRENCY
    results: dict[str, Any] = {
        "machine": machine(), "per_server_timeout_s": DEFAULT_TIMEOUT,
        "concurrency": concurrency, "goal_s": DEFAULT_TIMEOUT + 1, "goal_p99_ms": 50,
        "stubs": args.stubs, "quick": args.quick, "runs": {},
    }
    if args.before:
        with code_at(args.before) as tree:
            results["runs"][f"before ({short_rev(args.before)})"] = scenario(args, labs, tree)
    results["runs"]["after (this checkout)"] = scenario(args, labs)

    rows = []
    for code, run_results in results["runs"].items():
        for name, s in run_results["scenarios"].items():
            rows.append([code, name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["hub_gc"],
                         f"{s['delivered']}/{s['expected_delivered']}" if "delivered" in s
                         else "-", s.get("send_s", "-"),
                         verdict(s) if "stubs" in name else "-"])
    print(table(["code", "/hub/health prober during", "probes", "p50 ms", "p99 ms", "max ms",
                 "hub GC [s, gen, ms]", "delivered/expected", "send s (slowest)",
                 f"<= {DEFAULT_TIMEOUT + 1} s and p99 < 50 ms"], rows))
    for code, run_results in results["runs"].items():
        print(f"{code}: labs holding all {args.lab_sends} messages: "
              f"{run_results['labs_received_all']}/{len(labs)}; stub side: "
              f"{run_results['stub_side']}; stub servers started in "
              f"{run_results['stub_spawn_s']} s")
    print(f"CPU: {results['machine']['cpu']} x {results['machine']['nproc']}")
    name = "broadcast_fanout" + (f"_c{args.concurrency}" if args.concurrency else "")
    save(name, results, quick=args.quick)


if __name__ == "__main__":
    run(main)
