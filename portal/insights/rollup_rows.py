"""Owns the rollups' rows in the store: records merged into their hours' and their days' rows,
retention. Every function here runs on the store's thread (`PortalStore.run`), never the loop.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from ..store.database import PortalStore
from ..store.tables import UsageRollupRow
from .rollups import DAY, Key, Rollup, by_day

HOURLY, DAILY = "hour", "day"


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def epoch(value: datetime) -> int:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone
    return int(value.timestamp())


def record_of(row: UsageRollupRow) -> Rollup:
    return Rollup(lab_seconds=row.lab_seconds, cpu_seconds=row.cpu_seconds,
                  memory_gib_hours=row.memory_gib_hours, memory_peak=row.memory_peak,
                  memory_limit=row.memory_limit, storage=row.storage,
                  volumes=json.loads(row.volumes) if row.volumes else None,
                  gpu_seconds=row.gpu_seconds, samples=row.samples)


def _fill(row: UsageRollupRow, record: Rollup) -> None:
    row.lab_seconds, row.cpu_seconds = record.lab_seconds, record.cpu_seconds
    row.memory_gib_hours, row.memory_peak = record.memory_gib_hours, record.memory_peak
    row.memory_limit, row.storage = record.memory_limit, record.storage
    row.volumes = None if record.volumes is None else json.dumps(record.volumes, sort_keys=True)
    row.gpu_seconds, row.samples = record.gpu_seconds, record.samples


def _merge_into(db, period: str, records: dict[Key, Rollup]) -> int:  # noqa: ANN001 (Session)
    """Add `records` to the rows of their periods (one query per period start)."""
    by_start: dict[int, dict[Key, Rollup]] = defaultdict(dict)
    for key, record in records.items():
        by_start[key[2]][key] = record
    for start, group in by_start.items():
        existing = {(r.user, r.server): r for r in db.scalars(
            select(UsageRollupRow).where(UsageRollupRow.period == period,
                                         UsageRollupRow.day == at(start).date(),
                                         UsageRollupRow.start == at(start)))}
        for (user, server, _), record in group.items():
            row = existing.get((user, server))
            if row is None:
                row = UsageRollupRow(user=user[:255], server=server[:255], period=period,
                                     start=at(start), day=at(start).date())
                db.add(row)
            else:
                record = record_of(row).merge(record)
            _fill(row, record)
    return len(records)


def write_hourly(store: PortalStore, records: dict[Key, Rollup]) -> int:
    """Add hourly `records` to their hours' rows and to their days' rows (a report over whole
    days reads a 24th of the rows), in one transaction; hourly records written."""
    with store.session() as db:
        written = _merge_into(db, HOURLY, records)
        _merge_into(db, DAILY, by_day(list(records.items())))
        db.commit()
        return written


def compact(store: PortalStore, now: float, hourly_days: int, keep_days: int) -> tuple[int, int]:
    """Hourly rows of UTC days older than `hourly_days` go (their days' rows hold them); every
    row older than `keep_days` (0: none) goes. One transaction: (hourly, older) deleted."""
    cutoff = at((int(now) // DAY - hourly_days) * DAY)
    with store.session() as db:
        hourly = db.execute(delete(UsageRollupRow).where(
            UsageRollupRow.period == HOURLY, UsageRollupRow.day < cutoff.date())).rowcount or 0
        deleted = 0
        if keep_days:
            oldest = at(now) - timedelta(days=keep_days)
            deleted = db.execute(delete(UsageRollupRow).where(
                UsageRollupRow.day < oldest.date())).rowcount or 0
        db.commit()
        return hourly, deleted
