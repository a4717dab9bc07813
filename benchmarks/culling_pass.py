"""One idle-culling pass over 5,000 users with running servers: time on the event loop.

In-process: the hub's own ORM in an SQLite file with 5,000 users, each with a default server
record and a last activity spread over the last 10 hours, 500 of them in an exempt group; the
portal's `Culler.pass_once` (the query, the exempt lookup and the decisions, everything that
runs on the loop) is timed. Warnings and stops go to background tasks, replaced by no-ops here.
`--quick`: 1,000 users, 5 passes.

    .venv/bin/python -m benchmarks.culling_pass [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from jupyterhub import orm

from portal.cull_policy import CullPolicy
from portal.culling import Culler
from portal.operations import Operations

from .common import machine, save
from .stats import summary


def populate(db: Any, users: int) -> None:
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


async def run(users: int, passes: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = orm.new_session_factory(f"sqlite:///{tmp}/hub.sqlite")()
        populate(db, users)
        gc.collect()
        gc.freeze()  # as the hub does after start (portal.setup)
        runtime = SimpleNamespace(operations=Operations(), store=None, audit=None)
        culler = Culler(runtime, CullPolicy(8 * 3600, 1800, 8 * 3600, ("exempt",)))

        async def nothing(*args: Any) -> None:
            return None

        culler._warn = culler._cull = nothing  # type: ignore[method-assign]
        app = SimpleNamespace(db=db)
        times, decided = [], None
        for _ in range(passes):
            culler.warned.clear()
            t0 = time.perf_counter()
            decided = culler.pass_once(app)
            times.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0)
        db.close()
    # The first pass also compiles the query (SQLAlchemy caches it): shown on its own.
    return {"users": users, "passes": passes, "first_pass_ms": round(times[0], 2),
            "pass_ms": summary(times[1:]),
            "warned": len(decided.warn), "stopped": len(decided.cull)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    users, passes = (1000, 5) if args.quick else (5000, 21)
    results = {"machine": machine(), **asyncio.run(run(users, passes))}
    if not args.quick:
        save("culling_pass", results)
    ms = results["pass_ms"]
    print(f"Culling pass over {users} running servers ({results['warned']} to warn, "
          f"{results['stopped']} to stop): p50 {ms['p50_ms']} ms, p99 {ms['p99_ms']} ms, "
          f"max {ms['max_ms']} ms on the event loop (goal < 20 ms); first pass "
          f"{results['first_pass_ms']} ms")


if __name__ == "__main__":
    main()
