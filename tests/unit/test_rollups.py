"""The usage history's arithmetic with an injected clock: samples into hourly rollups, hours
split at their boundary, gaps nobody measured, merging with the store's rows across a restart,
folding into days and retention. No wall clock: every time is handed in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.governance.usage import LabUsage
from portal.insights import reports
from portal.insights.history import UsageHistory
from portal.insights.rollups import DAY, GIB, HOUR, Rollup, Rollups, Sample, by_day, split_by_hour
from portal.store.database import PortalStore

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

T0 = 1_796_000_400  # the start of an hour in late 2026 (epoch seconds)


def test_t0_is_the_start_of_an_hour():
    assert T0 % HOUR == 0


def test_a_gap_is_split_at_the_hour():
    assert split_by_hour(T0 + 3590, T0 + 3620) == [(T0, 10.0), (T0 + HOUR, 20.0)]
    assert split_by_hour(T0 + 5, T0 + 5) == []


def test_samples_become_lab_cpu_memory_and_gpu_seconds():
    r = Rollups(max_gap=75)
    r.add(Sample("ana", T0 + 3570, cpus=None, memory=GIB, memory_limit=4 * GIB))  # covers none
    r.add(Sample("ana", T0 + 3600 + 30, cpus=2.0, memory=2 * GIB, memory_limit=4 * GIB,
                 volumes={"home": 100, "cache": None}, gpu=True))
    taken = r.take()
    first, second = taken[("ana", "", T0)], taken[("ana", "", T0 + HOUR)]
    assert (first.lab_seconds, first.cpu_seconds, first.gpu_seconds) == (30.0, 60.0, 30.0)
    assert first.memory_gib_hours == pytest.approx(2 * 30 / HOUR)
    assert (first.memory_peak, first.memory_limit, first.samples) == (GIB, 4 * GIB, 1)
    assert (second.lab_seconds, second.cpu_seconds) == (30.0, 60.0)
    assert (second.memory_peak, second.storage, second.volumes) == (2 * GIB, 100, {"home": 100})
    assert r.take() == {}


def test_a_gap_longer_than_the_bound_and_a_repeated_sample_count_nothing():
    r = Rollups(max_gap=75)
    r.add(Sample("ana", T0 + 10, cpus=1.0, memory=GIB))
    r.add(Sample("ana", T0 + 10, cpus=1.0, memory=GIB))  # a failed pass repeats its sample
    r.add(Sample("ana", T0 + 500, cpus=1.0, memory=GIB))  # the hub was down meanwhile
    (record,) = r.take().values()
    assert (record.lab_seconds, record.samples) == (0.0, 2)
    r.forget_idle(T0 + 600)  # stopped: its next start starts afresh
    r.add(Sample("ana", T0 + 620, cpus=1.0, memory=GIB))
    assert r.take()[("ana", "", T0)].lab_seconds == 0.0


def test_merge_sums_keeps_the_peak_and_the_latest_storage():
    a = Rollup(lab_seconds=10, cpu_seconds=5, memory_peak=9, storage=100, volumes={"h": 100})
    b = Rollup(lab_seconds=20, cpu_seconds=1, memory_peak=3, storage=None)
    c = Rollup(storage=50, volumes={"h": 50})
    assert a.merge(b) == Rollup(lab_seconds=30, cpu_seconds=6, memory_peak=9, storage=100,
                                volumes={"h": 100})
    assert a.merge(b).merge(c).storage == 50
    days = by_day([(("ana", "", T0 + HOUR), c), (("ana", "", T0), a)])
    assert days[("ana", "", T0 // DAY * DAY)].storage == 50  # the day's last hour wins


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def usage(at: float, cpus: float | None = 1.0) -> LabUsage:
    return LabUsage(cpus=cpus, memory=GIB, memory_limit=0, volumes={"home": 7}, at=at)


def window(db: Session, user: str = "ana") -> reports.Totals:
    since = datetime.fromtimestamp(0, UTC)
    until = datetime.fromtimestamp(T0 // DAY * DAY + 400 * DAY, UTC)  # whole days: daily rows
    return reports.per_user(db, since, until).get(user) or reports.Totals(user)


async def test_a_restart_merges_into_the_stored_hours(tmp_path):
    store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
    clock = Clock(T0)
    first = UsageHistory(store, interval=30, clock=clock)
    first.observe([("ana", usage(T0))])
    first.observe([("ana", usage(T0 + 30))])
    assert await first.flush() == 1
    first.observe([("ana", usage(T0 + 60))])
    await first._final_flush()  # what the hub's stop runs
    assert (await store.read(window)).lab_hours == pytest.approx(60 / HOUR)
    # The next hub: a new history, the same hour; its first sample covers nothing.
    second = UsageHistory(store, interval=30, clock=clock)
    second.observe([("ana", usage(T0 + 200))])
    second.observe([("ana", usage(T0 + 230, cpus=2.0))])
    await second.flush()
    totals = await store.read(window)
    assert totals.lab_hours == pytest.approx(90 / HOUR)
    assert totals.cpu_hours == pytest.approx((60 + 60) / HOUR)
    assert totals.memory_peak == GIB


async def test_a_failed_write_keeps_its_records(tmp_path):
    store = PortalStore(f"sqlite:///{tmp_path}/missing/portal.sqlite")  # no such directory
    history = UsageHistory(store, interval=30, clock=Clock(T0))
    history.observe([("ana", usage(T0)), ("bo", usage(T0))])
    with pytest.raises(OperationalError):
        await history.flush()
    assert history.rollups.pending == 2


async def test_old_hours_leave_their_days_and_retention_deletes(tmp_path):
    store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
    clock = Clock(T0)
    history = UsageHistory(store, interval=30, hourly_days=31, keep_days=365, clock=clock)
    for start in (T0, T0 + HOUR):
        history.observe([("ana", usage(start)), ("ana", usage(start + 30))])
    await history.flush()
    clock.now = T0 + 40 * DAY
    assert await history.compact() == (2, 0)
    totals = await store.read(window)
    assert totals.lab_hours == pytest.approx(60 / HOUR)
    clock.now = T0 + 400 * DAY
    assert await history.compact() == (0, 1)
    assert (await store.read(window)).lab_hours == 0


async def test_each_server_has_its_own_rows_and_the_user_total_sums_them(tmp_path):
    """A named server's samples (keyed `user/name`) never overwrite the default server's; the
    user's total, what the lab-hours quota and Insights read, is both together."""
    store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
    history = UsageHistory(store, interval=30, clock=Clock(T0))
    for at in (T0, T0 + 30):
        history.observe([("ana", usage(at)), ("ana/gpu", usage(at, cpus=2.0))])
    pending = history.rollups.take()
    assert {(user, server) for user, server, _ in pending} == {("ana", ""), ("ana", "gpu")}
    history.rollups.give_back(pending)
    assert await history.flush() == 2
    totals = await store.read(window)
    assert totals.lab_hours == pytest.approx(60 / HOUR)  # 30 s of each server
    assert totals.cpu_hours == pytest.approx((30 + 60) / HOUR)


async def test_a_users_storage_is_the_union_of_their_servers_volumes(tmp_path):
    """Home is in every server (one key), a named server's workspace is `<server>/workspace`:
    the user's storage at the end counts each volume once."""
    store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
    history = UsageHistory(store, interval=30, clock=Clock(T0))

    def sample(at: float, **volumes: int) -> LabUsage:
        return LabUsage(cpus=1.0, memory=GIB, memory_limit=0, volumes=volumes, at=at)

    history.observe([("ana", sample(T0, home=7, workspace=3)),
                     ("ana/gpu", sample(T0, **{"home": 7, "gpu/workspace": 5}))])
    await history.flush()
    since = datetime.fromtimestamp(0, UTC)
    until = datetime.fromtimestamp(T0 // DAY * DAY + 400 * DAY, UTC)
    stored = await store.read(reports.storage_at_end, since, until)
    assert stored["ana"] == (15, {"home": 7, "workspace": 3, "gpu/workspace": 5})
