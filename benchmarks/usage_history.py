"""Usage history at scale: Insights over a store holding a year of rollups, what the rollup
writer adds to a sampling pass, and the hub's health while an admin opens a year's report.

The portal's store (SQLite in a temporary directory, or `--url` for PostgreSQL) is seeded the
shape a year leaves it in (for each user, hourly rows for the last 31 days and a row per day
for 365 days, every third hour busy), as a store of the release before months and totals
holds it (revision BEFORE_MONTHS); its first use then upgrades it in place (timed). Users are
in groups of 100. Then:

- the Insights report (`portal/insights/service.insights`: the queries on a reading thread of
  the store, the period's tables, groups, top users) for the last 30 days and for 365 custom
  days, then its page's charts, `--rounds` times each (p50, p99 in ms);
- the writer: `UsageHistory.observe` of one sampling pass of `--labs` labs (event-loop CPU, per
  pass), against the CPU of the pass itself (the collector's Docker calls, about 1.5 ms per lab
  measured by benchmarks/usage_collection.py; docs/benchmarks.md), and the write of those labs'
  records (one transaction, on the store's writing thread: off the event loop);
- with SQLite, a hub (benchmarks/usage_history_hub.py) on a copy of the same store: /hub/health
  probed every 20 ms while an admin opens the Insights page for the year `--rounds` times
  (`--before REV`: a hub on the code at REV first, same data; their exports compared).

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.usage_history [--users 5000]
        [--url postgresql://...] [--before REV] [--no-hub] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, func, insert, select

from portal.governance.usage import LabUsage
from portal.insights import service
from portal.insights.history import UsageHistory
from portal.insights.periods import parse_period
from portal.insights.rollups import DAY, GIB, HOUR
from portal.store.database import PortalStore
from portal.store.migrations import alembic_config
from portal.store.tables import UsageRollupRow

from .common import arguments, machine, run, save
from .stats import measured, summary, table
from .usage_history_hub import hub_figures, print_hub

QUICK = {"users": 40, "labs": 20, "rounds": 2}
PASS_CPU_PER_LAB_MS = 1.5  # the sampling pass's own CPU per lab (docs/benchmarks.md, 10.)
BEFORE_MONTHS = "6a2c8e1f4b90"  # the store's revision before months' rows and totals


def seed(url: str, users: int, now: float) -> int:
    """A year of rollups for `users` (31 days of hours and 365 days) in bulk inserts, into a
    store at BEFORE_MONTHS: what a year of the release before leaves."""
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

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), BEFORE_MONTHS)
            for n in range(users):
                user = f"user{n}"
                for day in range(365):
                    rows.append(row(user, "day", today - day * DAY, 8 * HOUR))
                for hour in range(0, 31 * 24, 3):
                    rows.append(row(user, "hour", today - 31 * DAY + hour * HOUR, HOUR))
                if len(rows) > 50_000:
                    connection.execute(insert(UsageRollupRow), rows)
                    written, rows = written + len(rows), []
            connection.execute(insert(UsageRollupRow), rows)
    finally:
        engine.dispose()
    return written + len(rows)


def year_args() -> dict[str, str]:
    return {"period": "custom", "since": _days_ago(364), "until": _days_ago(0)}


async def render(store: PortalStore, args: dict[str, str], members: dict[str, list[str]],
                 rounds: int) -> dict[str, Any]:
    period = parse_period(lambda name: args.get(name, ""), datetime.now(UTC))
    times, cpu = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        report = await service.insights(store, period, members)
        report.charts("/u?q=", "/g?group=")
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)  # this process: its threads' CPU
    measured(f"users in the report of {args}", report.users)
    # CPU beside the wall clock: on a shared machine the second follows the load.
    return {**summary(times, "report times"), "cpu_ms_p50": round(statistics.median(cpu), 1)}


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


def groups_of(users: int) -> dict[str, list[str]]:
    return {f"group{g}": [f"user{n}" for n in range(g * 100, min((g + 1) * 100, users))]
            for g in range((users + 99) // 100)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--labs", type=int, default=500, help="labs in one sampling pass")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--url", default="", help="a store URL (default: SQLite, temporary)")
    parser.add_argument("--before", default="", help="the hub part: the code at REV first")
    parser.add_argument("--no-hub", action="store_true", help="leave out the hub part")
    parser.add_argument("--save-as", default="usage_history", help="results file's name")
    parser.add_argument("--seeded", default="", help="SQLite: copy this seeded store (made "
                        "today by `seed`, --users alike) instead of seeding")
    args = arguments(parser, QUICK)
    at_start = machine()  # the load before seeding, not after the run
    with tempfile.TemporaryDirectory(prefix="dshub-usage-history-") as tmp:
        seeded_file, upgraded_file = Path(tmp) / "seeded.sqlite", Path(tmp) / "upgraded.sqlite"
        url = args.url or f"sqlite:///{tmp}/portal.sqlite"
        t0 = time.monotonic()
        if args.seeded and not args.url:  # a seeded store kept from an earlier run (today's)
            shutil.copy(args.seeded, seeded_file)
            seeded = _rows(seeded_file)
        else:
            seeded = seed(url if args.url else f"sqlite:///{seeded_file}", args.users,
                          time.time())
        seconds = time.monotonic() - t0
        if not args.url:
            shutil.copy(seeded_file, f"{tmp}/portal.sqlite")  # the hub gets another copy
        store = PortalStore(url)
        members = groups_of(args.users)

        async def measure() -> dict[str, Any]:
            t0 = time.monotonic()
            await store.run(lambda: store.session().close())  # the first use: the upgrade
            upgraded = round(time.monotonic() - t0, 1)
            if not args.url:  # the hub of this checkout starts from the store as upgraded
                await store.run(_checkpoint, store)
                shutil.copy(f"{tmp}/portal.sqlite", upgraded_file)
            return {
                "upgrade_seconds": upgraded,
                "month": await render(store, {"period": "month"}, members, args.rounds),
                "year": await render(store, year_args(), members, args.rounds),
                "writer": await writer(store, args.labs, args.rounds),
            }

        results = asyncio.run(measure())
        if not args.url and not args.no_hub:
            results["hub"] = hub_figures(args, seeded_file, upgraded_file, Path(tmp),
                                         year_args())
    results |= {"machine": at_start, "users": args.users, "rows": seeded,
                "seed_seconds": round(seconds, 1), "store": "postgresql" if args.url else "sqlite"}
    print(f"{seeded:,} rows for {args.users:,} users seeded in {seconds:.0f} s "
          f"({results['store']}); upgraded in place in {results['upgrade_seconds']} s")
    print(table(["Insights report", "n", "p50 ms", "p99 ms", "CPU ms p50", "goal p50"],
                [[name, results[key]["n"], results[key]["p50_ms"], results[key]["p99_ms"],
                  results[key]["cpu_ms_p50"], goal]
                 for name, key, goal in (("last 30 days", "month", "< 200 ms"),
                                         ("365 days", "year", "< 500 ms"))]))
    w = results["writer"]
    print(table(["labs per pass", "observe CPU ms", "pass CPU ms (1.5 ms a lab)", "added",
                 "write ms (store thread)", "goal"],
                [[w["labs"], w["observe_cpu_ms"], w["pass_cpu_ms"],
                  f"{100 * w['added_share']:.2f}%", w["write_ms_p50"], "< 5%"]]))
    if "hub" in results:
        print_hub(results["hub"])
    save(args.save_as, results, args.quick)


def _rows(path: Path) -> int:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(UsageRollupRow))
    finally:
        engine.dispose()


def _checkpoint(store: PortalStore) -> None:
    """Everything in the WAL folded into the file, so a copy of the file holds it all."""
    with store.session() as db:
        db.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _days_ago(days: int) -> str:
    return datetime.fromtimestamp(time.time() - days * DAY, UTC).date().isoformat()


if __name__ == "__main__":
    run(main)
