"""The usage history's coarser levels: each write keeps a week's and a month's rows and
everyone's totals per hour and day equal to the finer rows; a report over whole days answers
from months, weeks and days as it would from days alone; retention keeps weeks and months equal
to the days it keeps; a store of the release before gets them from its rows when it upgrades;
reports read beside a busy writer."""

from __future__ import annotations

import asyncio
import shutil
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.insights import reports
from portal.insights.rollup_rows import DAILY, HOURLY, LONGER, compact, level_start
from portal.insights.rollups import DAY, HOUR, month_of, week_of
from portal.store.database import PortalStore
from portal.store.tables import UsageRollupRow as R
from portal.store.tables import UsageTotalRow as T
from tests.support.rollup_levels import (
    JAN,
    assert_same_levels,
    days_rolled_up,
    records,
    release_before_with_rows_of,
    sums,
    written,
)

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


def store_with(path: Path, batches: list[dict]) -> PortalStore:
    return written(f"sqlite:///{path}/portal.sqlite", batches)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A store the writes made once (a copy per test: they change it)."""
    path = tmp_path_factory.mktemp("written")
    store_with(path, records())
    return path


@pytest.fixture
def store(made, tmp_path) -> PortalStore:
    for file in made.glob("portal.sqlite*"):  # the WAL too
        shutil.copy(file, tmp_path / file.name)
    return PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")


@pytest.mark.parametrize("level", LONGER)
def test_a_weeks_and_a_months_rows_are_the_sums_of_their_days(store, level):
    with store.session() as db:
        kept = sums(db, R.period == level, (R.user, R.server, R.day))
        assert len(kept) > 6 and kept == days_rolled_up(db, level)
        # Their storage is that of their last day that measured any.
        last = db.scalars(select(R).where(R.period == DAILY, R.user == "u0", R.server == "",
                                          R.storage.isnot(None)).order_by(R.start.desc())).first()
        longer = db.scalars(select(R).where(R.period == level, R.user == "u0", R.server == "",
                                            R.day == level_start(level, last.day))).one()
        assert (longer.storage, longer.volumes) == (last.storage, last.volumes)


@pytest.mark.parametrize("level", [HOURLY, DAILY])
def test_everyones_totals_are_the_sums_of_their_periods_rows(store, level):
    with store.session() as db:
        rows = sums(db, R.period == level, (R.start,))
        active = {start: n for start, n in db.execute(select(
            R.start, func.count(func.distinct(R.user))).where(
            R.period == level, R.lab_seconds > 0).group_by(R.start))}
        totals = {(t.start,): tuple(round(v, 6) for v in (
            t.lab_seconds, t.cpu_seconds, t.memory_gib_hours, t.gpu_seconds, t.memory_peak))
            for t in db.scalars(select(T).where(T.period == level))}
        assert len(totals) == len(rows) > 10
        assert totals == {k: v[:5] for k, v in rows.items()}
        assert {t.start: t.active_users for t in db.scalars(select(T).where(
            T.period == level)) if t.active_users} == active


def day_rows_only(db: Session, since: datetime, until: datetime):  # noqa: ANN201
    """What a report read before months: every day's rows."""
    query = select(R.user, *reports.SUMS).where(R.period == DAILY, R.day >= since.date(),
                                                R.day < until.date()).group_by(R.user)
    return {name: reports._totals(name, *s, {name} if s[0] else set()).as_json()
            for name, *s in db.execute(query)}


@pytest.mark.parametrize(("since", "until"), [
    (date(2026, 1, 25), date(2026, 3, 20)),  # days, weeks, a month, weeks, days
    (date(2026, 2, 1), date(2026, 3, 1)),  # one whole month
    (date(2026, 2, 3), date(2026, 2, 28)),  # days, weeks, days
    (date(2026, 2, 3), date(2026, 2, 8)),  # days only
])
async def test_a_report_over_months_answers_as_over_days(store, since, until):
    span = (datetime.combine(since, datetime.min.time(), UTC),
            datetime.combine(until, datetime.min.time(), UTC))
    got = await store.read(reports.per_user, *span)
    assert {n: t.as_json() for n, t in got.items()} == await store.read(day_rows_only, *span)
    daily = await store.read(reports.timeline, *span, False)
    with store.session() as db:
        by_day = sums(db, (R.period == DAILY) & (R.day >= since) & (R.day < until), (R.day,))
    assert [p.totals.lab_hours * HOUR for p in daily] == pytest.approx(
        [v[0] for _, v in sorted(by_day.items())])
    storage = await store.read(reports.storage_at_end, *span)
    assert storage["u0"][0] > 0 and set(storage) == {"u0", "u1"}  # u2's hours measured none


def test_retention_keeps_weeks_and_months_equal_to_the_days_it_keeps(store):
    now = datetime(2026, 2, 10, 12, tzinfo=UTC).timestamp() + 365 * DAY  # keeps Feb 10 on
    hourly, deleted = compact(store, now, hourly_days=31, keep_days=365)
    assert hourly > 0 and deleted > 0
    with store.session() as db:
        assert db.scalar(select(func.min(R.day))) == date(2026, 2, 1)  # February's month row
        assert db.scalar(select(func.min(R.day)).where(R.period == DAILY)) >= date(2026, 2, 10)
        assert db.scalar(select(func.count()).select_from(T).where(T.period == HOURLY)) == 0
        assert db.scalar(select(func.min(T.start))) >= datetime(2026, 2, 10)  # SQLite: naive
        for level in LONGER:
            assert sums(db, R.period == level, (R.user, R.server, R.day)) == days_rolled_up(
                db, level)
    compact(store, now + 60 * DAY, hourly_days=31, keep_days=365)
    with store.session() as db:
        assert db.scalar(select(func.count()).select_from(R)) == 0
        assert db.scalar(select(func.count()).select_from(T)) == 0


def test_a_store_of_the_release_before_gets_months_and_totals_when_it_upgrades(store, tmp_path):
    url = f"sqlite:///{tmp_path}/old.sqlite"
    release_before_with_rows_of(store, url)
    assert_same_levels(PortalStore(url), store)


def test_a_week_starts_on_monday_and_a_month_on_its_first_utc_day():
    assert month_of(JAN + 40 * DAY + 5) == int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())
    assert month_of(JAN - 1) == int(datetime(2025, 12, 1, tzinfo=UTC).timestamp())
    # 2026-01-01 was a Thursday: its week began on Monday 2025-12-29.
    assert week_of(JAN + 5) == int(datetime(2025, 12, 29, tzinfo=UTC).timestamp())
    assert week_of(JAN + 4 * DAY) == JAN + 4 * DAY  # Monday 2026-01-05


async def test_a_report_runs_while_the_writer_is_busy(tmp_path):
    store = store_with(tmp_path, records(users=1, days=5))
    busy, release = threading.Event(), threading.Event()

    def hold() -> None:  # a long write: the store's writing thread, in a transaction
        with store.session() as db:
            db.add(R(user="late", server="", period=HOURLY, start=datetime(2026, 1, 21, 1),
                     day=date(2026, 1, 21), lab_seconds=HOUR, cpu_seconds=0.0,
                     memory_gib_hours=0.0, memory_peak=0, memory_limit=0, gpu_seconds=0.0,
                     samples=1))
            db.flush()
            busy.set()
            release.wait(30)
            db.commit()

    writing = asyncio.ensure_future(store.run(hold))
    await asyncio.get_running_loop().run_in_executor(None, busy.wait, 30)
    span = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    seen = await asyncio.wait_for(store.read(reports.per_user, *span), 30)
    assert "late" not in seen and seen["u0"].lab_hours > 0  # the last commit, not the write
    release.set()
    await writing
