"""One idle-culling pass over 5,000 users with running servers: the longest event-loop stall
during a pass, and the pass's total time.

In-process: the hub's own ORM in an SQLite file with 5,000 users, each with a default server
record and a last activity spread over the last 10 hours, 500 of them in an exempt group; the
portal's `Culler.pass_once` (queries and decisions: everything that runs on the loop) runs
while a ticker coroutine (`await asyncio.sleep(0)` in a loop) notes the time between its turns:
the longest gap during a pass is the longest time the pass held the loop, in wall time (what
another request waits, including the time the process waits for a core on a loaded machine)
and in the process's CPU time (the pass's own work, without that wait). Warnings and stops go
to background tasks, replaced by no-ops here. Each code runs in a process of its own;
`--before REV` measures the code at REV first (a `git archive` of it ahead on `sys.path`), in
the same session. `--quick`: 1,000 users, 5 passes.

    .venv/bin/python -m benchmarks.culling_pass [--before b5467cb] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from .common import ROOT, arguments, code_at, machine, run, save, short_rev
from .stats import summary, table

QUICK = {"users": 1000, "passes": 5}


def populate(db: Any, users: int) -> None:
    from jupyterhub import orm

    now = datetime.now(UTC).replace(tzinfo=None)
    exempt = orm.Group(name="exempt")
    db.add(exempt)
    for i in range(users):
        user = orm.User(name=f"user{i}")
        server = orm.Server()
        db.add_all([user, server])
        spawner = orm.Spawner(name="", user=user, server=server, started=now,
                              last_activity=now - timedelta(seconds=(i * 7.2) % 36000))
        db.add(spawner)
        if i % 10 == 0:
            exempt.users.append(user)
    db.commit()


def _modules() -> tuple[Any, Any, Any]:
    """Culling, its policy and the operations in flight, from either layout of `portal`: in
    subpackages (since Structure II) or flat (a tree from before, measured with --before)."""
    try:
        from portal.governance import cull_policy, culling
        from portal.operations import in_flight
    except ModuleNotFoundError:
        from portal import cull_policy, culling  # type: ignore[no-redef]
        from portal import operations as in_flight  # type: ignore[no-redef]
    return culling, cull_policy, in_flight


async def measure(users: int, passes: int, chunk: int) -> dict[str, Any]:
    """Passes of the `portal` on sys.path (sync before, async after: both are handled)."""
    from jupyterhub import orm

    culling, cull_policy, in_flight = _modules()
    CullPolicy, Operations = cull_policy.CullPolicy, in_flight.Operations

    with tempfile.TemporaryDirectory() as tmp:
        db = orm.new_session_factory(f"sqlite:///{tmp}/hub.sqlite")()
        populate(db, users)
        gc.collect()
        gc.freeze()  # as the hub does after start (portal.setup)
        policy = CullPolicy(8 * 3600, 1800, 8 * 3600, ("exempt",))
        if "runtime" in inspect.signature(culling.Culler).parameters:  # before typed-runtime
            runtime = SimpleNamespace(operations=Operations(), store=None, audit=None)
            culler = culling.Culler(runtime, policy)
        else:
            culler = culling.Culler(cull_policy.CullPolicyStore(None, None, policy), Operations(),
                                    None, None, None)  # type: ignore[arg-type]

        async def nothing(*args: Any) -> None:
            return None

        culler._warn = culler._warn_all = culler._cull = nothing  # type: ignore[method-assign]
        app = SimpleNamespace(db=db)
        turns: list[tuple[float, float]] = []  # when the ticker got the loop (wall, CPU)
        ticking = True

        async def ticker() -> None:
            while ticking:
                turns.append((time.perf_counter(), time.process_time()))
                await asyncio.sleep(0)

        tick = asyncio.ensure_future(ticker())
        stalls, cpu_stalls, totals, decided = [], [], [], None
        for _ in range(passes):
            culler.warned.clear()
            for _ in range(3):  # the ticker runs, and the last pass's no-op tasks are done
                await asyncio.sleep(0)
            mark = len(turns) - 1
            t0 = time.perf_counter()
            decided = culler.pass_once(app, **({"chunk": chunk} if chunk else {}))
            if inspect.isawaitable(decided):
                decided = await decided
            totals.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0)  # the ticker's turn that ends the pass's last hold
            held = list(zip(turns[mark:], turns[mark + 1:], strict=False))
            stalls.append(max(b[0] - a[0] for a, b in held) * 1000)
            cpu_stalls.append(max(b[1] - a[1] for a, b in held) * 1000)
        ticking = False
        await tick
        db.close()
    # The first pass also compiles the queries (SQLAlchemy caches them): shown on its own.
    return {"users": users, "passes": passes, "portal": culling.__file__,
            "first_pass_ms": {"stall": round(stalls[0], 2), "total": round(totals[0], 2)},
            "stall_ms": summary(stalls[1:]), "stall_cpu_ms": summary(cpu_stalls[1:]),
            "total_ms": summary(totals[1:]),
            "warned": len(decided.warn), "stopped": len(decided.cull)}


def in_process_of_its_own(args: argparse.Namespace, code: Any = None) -> dict[str, Any]:
    """`measure` in a fresh interpreter, on this checkout's portal or the one in `code`."""
    command = [sys.executable, "-m", "benchmarks.culling_pass", "--measure",
               "--users", str(args.users), "--passes", str(args.passes)]
    if code is not None:
        command += ["--code", str(code)]
    elif args.chunk:
        command += ["--chunk", str(args.chunk)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"measuring failed: {done.stderr.strip()[-600:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--passes", type=int, default=21)
    parser.add_argument("--chunk", type=int, default=0, help="servers per query (after only)")
    parser.add_argument("--before", default="",
                        help="git revision of the code before: measured first, same session")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", default="", help=argparse.SUPPRESS)
    args = arguments(parser, QUICK)
    if args.measure:  # the child: the code to measure goes ahead of this checkout's
        if args.code:
            sys.path.insert(0, args.code)
            # tests.support (through .common) has imported this checkout's portal already:
            # forgotten, or the "before" run would measure this checkout again.
            for name in [m for m in sys.modules if m == "portal" or m.startswith("portal.")]:
                del sys.modules[name]
        measured = asyncio.run(measure(args.users, args.passes, args.chunk))
        if args.code and not measured["portal"].startswith(args.code):
            raise RuntimeError(f"measured {measured['portal']}, not the code in {args.code}")
        print(json.dumps(measured))
        return
    results: dict[str, Any] = {"machine": machine(), "users": args.users, "runs": {}}
    if args.before:
        with code_at(args.before) as tree:
            results["runs"][f"before ({short_rev(args.before)})"] = \
                in_process_of_its_own(args, tree)
    results["runs"]["after (this checkout)"] = in_process_of_its_own(args)
    rows = []
    for code, r in results["runs"].items():
        stall, cpu, total = r["stall_ms"], r["stall_cpu_ms"], r["total_ms"]
        rows.append([code, r["passes"] - 1, f"{r['warned']}/{r['stopped']}", stall["p50_ms"],
                     stall["p99_ms"], stall["max_ms"], cpu["p50_ms"], cpu["max_ms"],
                     total["p50_ms"], total["p99_ms"],
                     f"{r['first_pass_ms']['stall']} / {r['first_pass_ms']['total']}",
                     "met" if stall["max_ms"] < 20 else "missed"])
    print(f"Culling pass over {args.users} running servers")
    print(table(["code", "passes", "warn/stop", "stall p50 ms", "stall p99 ms", "stall max ms",
                 "stall CPU p50 ms", "stall CPU max ms", "pass p50 ms", "pass p99 ms",
                 "first pass stall / total ms", "longest stall < 20 ms"], rows))
    save("culling_pass", results, quick=args.quick)


if __name__ == "__main__":
    run(main)
