"""Usage history with every level: months of hourly records written as the hub writes them; the
sums tests compare (days rolled up in Python, to check the weeks and months the store keeps);
a store of the release before (revision BEFORE) holding the same hours and days, upgraded in
place. On SQLite (tests/unit/test_rollup_levels.py) and PostgreSQL
(tests/integration/test_store_postgres.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.orm import Session

from portal.insights.rollup_rows import (
    DAILY,
    HOURLY,
    LONGER,
    MONTHLY,
    WEEKLY,
    level_start,
    write_hourly,
)
from portal.insights.rollups import DAY, GIB, HOUR, Rollup
from portal.store.database import PortalStore
from portal.store.migrations import alembic_config
from portal.store.tables import UsageRollupRow as R
from portal.store.tables import UsageTotalRow as T

JAN = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
BEFORE = "6a2c8e1f4b90"  # the release before weeks, months and totals
FIGURES = ("lab_seconds", "cpu_seconds", "memory_gib_hours", "gpu_seconds")


def records(users: int = 3, days: int = 70, step: int = 7) -> list[dict]:
    """Batches of hourly records from late January into March, two servers, some idle."""
    batches = []
    for d in range(20, 20 + days, 3):
        batch = {}
        for n in range(users):
            for hour in range(0, 24, step + n):
                busy = (d + hour + n) % 4
                batch[(f"u{n}", "" if hour % 2 else "big", JAN + d * DAY + hour * HOUR)] = Rollup(
                    lab_seconds=busy * 900.0, cpu_seconds=busy * 450.0,
                    memory_gib_hours=busy / 2, memory_peak=(busy + 1) * GIB,
                    memory_limit=8 * GIB, storage=(d + n) * GIB if hour % 3 else None,
                    volumes={"home": (d + n) * GIB} if hour % 3 else None,
                    gpu_seconds=100.0 * (n == 1), samples=4)
        batches.append(batch)
    return batches


def written(url: str, batches: list[dict]) -> PortalStore:
    """A store on `url` given `batches` as the history writes them (some twice: merged)."""
    store = PortalStore(url)
    for batch in batches:
        write_hourly(store, batch)
        write_hourly(store, {k: r for k, r in list(batch.items())[::5]})
    return store


def sums(db: Session, where, by) -> dict:  # noqa: ANN001 (SQL)
    """{group: (the figures summed, the highest peak, samples)}, rounded."""
    query = select(*by, *(func.sum(getattr(R, f)) for f in FIGURES), func.max(R.memory_peak),
                   func.sum(R.samples)).where(where).group_by(*by)
    return {tuple(row[:len(by)]): tuple(round(float(v), 6) for v in row[len(by):])
            for row in db.execute(query)}


def days_rolled_up(db: Session, level: str) -> dict:
    """The days' rows summed per (user, server, first day of their week or month), as `sums`
    answers for that level's rows grouped by (user, server, day)."""
    out: dict[tuple, list[float]] = {}
    for row in db.execute(select(R).where(R.period == DAILY)).scalars():
        key = (row.user, row.server, level_start(level, row.day))
        held = out.setdefault(key, [0.0] * (len(FIGURES) + 2))
        for i, name in enumerate(FIGURES):
            held[i] += getattr(row, name)
        held[-2] = max(held[-2], row.memory_peak)
        held[-1] += row.samples
    return {key: tuple(round(float(v), 6) for v in held) for key, held in out.items()}


def release_before_with_rows_of(made: PortalStore, url: str) -> None:
    """A store on `url` at BEFORE holding `made`'s hours and days (never its weeks, months)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), BEFORE)
        columns = [c for c in R.__table__.columns if c.name != "id"]
        with made.session() as db, engine.begin() as connection:
            rows = db.execute(select(*columns).where(R.period.in_((HOURLY, DAILY)))
                              ).mappings().all()
            connection.execute(insert(R.__table__), [dict(r) for r in rows])
    finally:
        engine.dispose()


def assert_same_levels(upgraded: PortalStore, made: PortalStore) -> None:
    """Weeks' and months' rows and totals as the writes made them."""
    with upgraded.session() as old, made.session() as new:
        for level, by in ((HOURLY, (R.start,)), (DAILY, (R.start,)),
                          (WEEKLY, (R.user, R.server, R.start)),
                          (MONTHLY, (R.user, R.server, R.start))):
            assert sums(old, R.period == level, by) == sums(new, R.period == level, by)
        stored = select(R.period, R.user, R.server, R.day, R.storage, R.volumes).where(
            R.period.in_(LONGER)).order_by(R.period, R.user, R.server, R.day)
        assert old.execute(stored).all() == new.execute(stored).all()
        every = select(T.period, T.start, T.active_users, T.memory_peak, T.lab_seconds,
                       T.cpu_seconds).order_by(T.period, T.start)
        assert old.execute(every).all() == new.execute(every).all()
