"""Usage history at scale: Insights over a store holding a year of rollups, and what the rollup
writer adds to a sampling pass.

No hub and no Docker: the portal's store (SQLite in a temporary directory, or `--url` for
PostgreSQL) is seeded the shape a year leaves it in (for each user, hourly rows for the last 31
days and a row per day for 365 days, every third hour busy), with users in groups of 100. Then:

- the Insights report (`portal/insights/service.insights`: the queries on the store's thread,
  the period's tables, groups, top users) for the last 30 days and for 365 custom days, then
  its page's charts, `--rounds` times each (p50, p99 in ms);
- the writer: `UsageHistory.observe` of one sampling pass of `--labs` labs (event-loop CPU, per
  pass), against the CPU of the pass itself (the collector's Docker calls, about 1.5 ms per lab
  measured by benchmarks/usage_collection.py; docs/benchmarks.md), and the write of those labs'
  records (one transaction, on the store's thread: off the event loop).

    .venv/bin/python -m benchmarks.usage_history [--users 5000] [--url postgresql://...] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from portal.governance.usage import LabUsage
from portal.insights import service
from portal.insights.history import UsageHistory
from portal.insights.periods import parse_period
from portal.insights.rollups import DAY, GIB, HOUR
from portal.store.database import PortalStore
from portal.store.tables import UsageRollupRow

from .common import arguments, machine, run, save
from .stats import measured, summary, table

QUICK = {"users": 40, "labs": 20, "rounds": 2}
PASS_CPU_PER_LAB_MS = 1.5  # the sampling pass's own CPU per lab (docs/benchmarks.md, 10.)


def seed(store: PortalStore, users: int, now: float) -> int:
    """A year of rollups for `users`: 31 days of hours and 365 days, in bulk inserts."""
    today = int(now) // DAY * DAY
    rows: list[dict[str, Any]] = []
    written = 0

    def row(user: str, period: str, start: int, seconds: float) -> dict[str, Any]:
        when = datetime.fromtimestamp(start, UTC)
        return {"user": user, "server": "", "period": period, "start": when, "day": when.date(),
                "lab_seconds": seconds, "cpu_seconds": seconds / 3,
                "memory_gib_hours": seconds / HOUR, "memory_peak": 2 * GIB,
                "memory_limit": 4 * GIB, "storage": 3 * GIB, "volumes": None,
                "gpu_seconds": 0.0, "samples": int(seconds // 30), "environment": None}

    with store.session() as db:  # its first use makes the schema (the revisions)
        for n in range(users):
            user = f"user{n}"
            for day in range(365):
                rows.append(row(user, "day", today - day * DAY, 8 * HOUR))
            for hour in range(0, 31 * 24, 3):
                rows.append(row(user, "hour", today - 31 * DAY + hour * HOUR, HOUR))
            if len(rows) > 50_000:
                db.execute(insert(UsageRollupRow), rows)
                written, rows = written + len(rows), []
        db.execute(insert(UsageRollupRow), rows)
        db.commit()
    return written + len(rows)


async def render(store: PortalStore, args: dict[str, str], members: dict[str, list[str]],
                 rounds: int) -> dict[str, Any]:
    period = parse_period(lambda name: args.get(name, ""), datetime.now(UTC))
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        report = await service.insights(store, period, members)
        report.charts("/u?q=", "/g?group=")
        times.append((time.perf_counter() - t0) * 1000)
    measured(f"users in the report of {args}", report.users)
    return summary(times, "report times")


async def writer(store: PortalStore, labs: int, rounds: int) -> dict[str, float]:
    history = UsageHistory(store, interval=30)
    now = time.time()
    cpu, writes = [], []
    for n in range(rounds + 1):
        samples = [(f"lab{i}", LabUsage(cpus=0.5, memory=GIB, memory_limit=0,
                                        volumes={"home": GIB}, at=now + 30 * n))
                   for i in range(labs)]
        t0 = time.process_time()
        history.observe(samples)
        cpu.append((time.process_time() - t0) * 1000)
        t0 = time.perf_counter()
        await history.flush()
        writes.append((time.perf_counter() - t0) * 1000)
    pass_ms = labs * PASS_CPU_PER_LAB_MS
    observe = statistics.median(cpu[1:])  # the first pass covers nothing yet
    return {"labs": labs, "observe_cpu_ms": round(observe, 3), "pass_cpu_ms": pass_ms,
            "added_share": round(observe / pass_ms, 4),
            "write_ms_p50": round(statistics.median(writes[1:]), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--labs", type=int, default=500, help="labs in one sampling pass")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--url", default="", help="a store URL (default: SQLite, temporary)")
    args = arguments(parser, QUICK)
    with tempfile.TemporaryDirectory(prefix="dshub-usage-history-") as tmp:
        store = PortalStore(args.url or f"sqlite:///{tmp}/portal.sqlite")
        t0 = time.monotonic()
        seeded = seed(store, args.users, time.time())
        seconds = time.monotonic() - t0
        members = {f"group{g}": [f"user{n}" for n in range(g * 100, min((g + 1) * 100,
                                                                        args.users))]
                   for g in range((args.users + 99) // 100)}

        async def measure() -> dict[str, Any]:
            return {
                "month": await render(store, {"period": "month"}, members, args.rounds),
                "year": await render(store, {"period": "custom", "since": _days_ago(364),
                                             "until": _days_ago(0)}, members, args.rounds),
                "writer": await writer(store, args.labs, args.rounds),
            }

        results = asyncio.run(measure())
    results |= {"machine": machine(), "users": args.users, "rows": seeded,
                "seed_seconds": round(seconds, 1), "store": "postgresql" if args.url else "sqlite"}
    print(f"{seeded:,} rows for {args.users:,} users seeded in {seconds:.0f} s "
          f"({results['store']})")
    print(table(["Insights report", "n", "p50 ms", "p99 ms", "goal p50"],
                [["last 30 days", results["month"]["n"], results["month"]["p50_ms"],
                  results["month"]["p99_ms"], "< 200 ms"],
                 ["365 days", results["year"]["n"], results["year"]["p50_ms"],
                  results["year"]["p99_ms"], "< 500 ms"]]))
    w = results["writer"]
    print(table(["labs per pass", "observe CPU ms", "pass CPU ms (1.5 ms a lab)", "added",
                 "write ms (store thread)", "goal"],
                [[w["labs"], w["observe_cpu_ms"], w["pass_cpu_ms"],
                  f"{100 * w['added_share']:.2f}%", w["write_ms_p50"], "< 5%"]]))
    save("usage_history", results, args.quick)


def _days_ago(days: int) -> str:
    return datetime.fromtimestamp(time.time() - days * DAY, UTC).date().isoformat()


if __name__ == "__main__":
    run(main)
