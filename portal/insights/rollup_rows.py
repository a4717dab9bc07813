"""Owns the rollups' rows in the store: records merged into their hours', days', ISO weeks' and
calendar months' rows, everyone's totals per hour and day, retention. Every function here runs
on the store's writing thread (`PortalStore.run`), never the loop.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from ..store.database import PortalStore
from ..store.tables import UsageRollupRow, UsageTotalRow
from .rollups import DAY, Key, Rollup, by_day, by_month, by_week

HOURLY, DAILY, WEEKLY, MONTHLY = "hour", "day", "week", "month"
LONGER = (WEEKLY, MONTHLY)  # levels summed from the days' rows
R, T = UsageRollupRow, UsageTotalRow


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def epoch(value: datetime) -> int:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone
    return int(value.timestamp())


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def level_start(level: str, day: date) -> date:
    """The first day of the week or month holding `day`."""
    return day.replace(day=1) if level == MONTHLY else day - timedelta(days=day.weekday())


def level_end(level: str, first: date) -> date:
    return next_month(first) if level == MONTHLY else first + timedelta(days=7)


def record_of(row) -> Rollup:  # noqa: ANN001 (a UsageRollupRow, or a Row of its columns)
    return Rollup(lab_seconds=row.lab_seconds, cpu_seconds=row.cpu_seconds,
                  memory_gib_hours=row.memory_gib_hours, memory_peak=row.memory_peak,
                  memory_limit=row.memory_limit, storage=row.storage,
                  volumes=json.loads(row.volumes) if row.volumes else None,
                  gpu_seconds=row.gpu_seconds, samples=row.samples)


def _figures(record: Rollup) -> dict[str, object]:
    return {"lab_seconds": record.lab_seconds, "cpu_seconds": record.cpu_seconds,
            "memory_gib_hours": record.memory_gib_hours, "memory_peak": record.memory_peak,
            "memory_limit": record.memory_limit, "storage": record.storage,
            "volumes": None if record.volumes is None
            else json.dumps(record.volumes, sort_keys=True),
            "gpu_seconds": record.gpu_seconds, "samples": record.samples}


# Rows written per statement, then a pause that leaves the interpreter to the event loop: a
# flush of 2,000 labs' rows in one go held the lock for a few hundred milliseconds, and the
# loop's requests waited on it (/hub/health p99 80-100 ms during a usage pass at 2,000 labs).
WRITE_CHUNK = 250
PAUSE = 0.003
FIGURES = ("lab_seconds", "cpu_seconds", "memory_gib_hours", "memory_peak", "memory_limit",
           "storage", "volumes", "gpu_seconds", "samples")


def _merge_into(db, period: str, records: dict[Key, Rollup],  # noqa: ANN001 (Session)
                whole: bool = True) -> dict[int, list[dict[str, Any]]]:
    """Add `records` to the rows of their periods (one query per period start; the changed
    rows written in one UPDATE by key and one INSERT: at 2,000 running labs a flush through
    the unit of work cost more than the whole usage pass, docs/benchmarks.md section 15).
    Returns each start's rows' figures, everyone's when `whole` (for the totals), else only
    the records'."""
    by_start: dict[int, dict[Key, Rollup]] = defaultdict(dict)
    for key, record in records.items():
        by_start[key[2]][key] = record
    rows_at: dict[int, list[dict[str, Any]]] = {}
    for start, group in by_start.items():
        query = select(R.id, R.user, R.server, *(getattr(R, f) for f in FIGURES)).where(
            R.period == period, R.day == at(start).date(), R.start == at(start))
        if not whole:  # a week's or month's rows: only the users written (no totals there)
            query = query.where(R.user.in_(sorted({user[:255] for user, _, _ in group})))
        existing = {(r.user, r.server): r for r in db.execute(query)}
        figures = {key: dict(row._mapping) for key, row in existing.items()}
        updates, inserts = [], []
        for (user, server, _), record in group.items():
            key = (user[:255], server[:255])
            row = existing.get(key)
            merged = _figures(record if row is None else record_of(row).merge(record))
            if row is None:
                inserts.append({"user": key[0], "server": key[1], "period": period,
                                "start": at(start), "day": at(start).date(), **merged})
            else:
                updates.append({"id": row.id, **merged})
            figures[key] = {"user": key[0], **merged}
        for statement, rows in ((update(R), updates), (insert(R), inserts)):
            for first in range(0, len(rows), WRITE_CHUNK):
                db.execute(statement, rows[first:first + WRITE_CHUNK])
                time.sleep(PAUSE)
        rows_at[start] = list(figures.values())
    return rows_at


def _keep_totals(db, period: str, rows_at: dict[int, list[dict[str, Any]]]) -> None:  # noqa: ANN001
    """Everyone's totals of each period written to: summed from all its rows (never adjusted,
    so a total always equals its rows)."""
    for start, rows in rows_at.items():
        total = db.get(T, (period, at(start))) or T(period=period, start=at(start))
        total.lab_seconds = sum(r["lab_seconds"] for r in rows)
        total.cpu_seconds = sum(r["cpu_seconds"] for r in rows)
        total.memory_gib_hours = sum(r["memory_gib_hours"] for r in rows)
        total.memory_peak = max((r["memory_peak"] for r in rows), default=0)
        total.gpu_seconds = sum(r["gpu_seconds"] for r in rows)
        total.active_users = len({r["user"] for r in rows if r["lab_seconds"] > 0})
        db.add(total)


def write_hourly(store: PortalStore, records: dict[Key, Rollup]) -> int:
    """Add hourly `records` to their hours', days', weeks' and months' rows, and everyone's
    totals of those hours and days, in one transaction (a report over a year reads a row per
    user and month, over 30 days one per week, its charts one per day); records written."""
    items = list(records.items())
    with store.session() as db:
        _keep_totals(db, HOURLY, _merge_into(db, HOURLY, records))
        _keep_totals(db, DAILY, _merge_into(db, DAILY, by_day(items)))
        _merge_into(db, WEEKLY, by_week(items), whole=False)
        _merge_into(db, MONTHLY, by_month(items), whole=False)
        db.commit()
        return len(records)


def _sum_again(db, level: str, first: date) -> None:  # noqa: ANN001 (Session)
    """A week's or month's rows again from its days' rows (retention took its first days)."""
    columns = [R.user, R.server, R.start, *(getattr(R, name) for name in FIGURES)]
    days = db.execute(select(*columns).where(R.period == DAILY, R.day >= first,
                                             R.day < level_end(level, first)))
    start = datetime.combine(first, datetime.min.time(), UTC)
    folded = by_month if level == MONTHLY else by_week
    rows = folded([((d.user, d.server, epoch(d.start)), record_of(d)) for d in days])
    db.execute(delete(R).where(R.period == level, R.day == first))
    if rows:
        db.execute(insert(R), [{"user": user, "server": server, "period": level,
                                "start": start, "day": first, **_figures(record)}
                               for (user, server, _), record in rows.items()])


def compact(store: PortalStore, now: float, hourly_days: int, keep_days: int) -> tuple[int, int]:
    """Hourly rows (and totals) of UTC days older than `hourly_days` go (their days' rows hold
    them); every row older than `keep_days` (0: none) goes, weeks' and months' rows with their
    last day (the week and month it cuts into are summed again from the days they keep). One
    transaction: (hourly, older) rows of hours and days deleted."""
    cutoff = at((int(now) // DAY - hourly_days) * DAY)
    with store.session() as db:
        hourly = db.execute(delete(R).where(R.period == HOURLY, R.day < cutoff.date())
                            ).rowcount or 0
        db.execute(delete(T).where(T.period == HOURLY, T.start < cutoff))
        deleted = 0
        if keep_days:
            oldest = (at(now) - timedelta(days=keep_days)).date()
            deleted = db.execute(delete(R).where(R.period.in_((HOURLY, DAILY)),
                                                 R.day < oldest)).rowcount or 0
            db.execute(delete(T).where(T.start < datetime.combine(oldest, datetime.min.time(),
                                                                   UTC)))
            for level in LONGER:
                first = level_start(level, oldest)
                db.execute(delete(R).where(R.period == level, R.day < first))
                if deleted and first != oldest:
                    _sum_again(db, level, first)
        db.commit()
        return hourly, deleted
