"""Owns what the usage history answers: totals per user, per group and per hour or day over a
period, the monthly report per group, and one user's own figures. Queries run on the store's
thread (`PortalStore.run`); groups are the hub's memberships as they are now.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import case, distinct, func, select

from ..store.database import PortalStore
from ..store.tables import UsageRollupRow as R
from .rollup_rows import DAILY, HOURLY
from .rollups import DAY, HOUR

NO_GROUP = "(no group)"


@dataclass
class Totals:
    """Usage summed over a period (a user's, a group's, or one hour's or day's of everyone)."""

    name: str
    lab_hours: float = 0.0
    cpu_hours: float = 0.0
    memory_gib_hours: float = 0.0
    memory_peak: int = 0
    gpu_hours: float = 0.0
    users: set[str] = field(default_factory=set)  # who ran a lab in it
    storage: int | None = None  # bytes at the period's end, where measured

    def add(self, other: Totals) -> None:
        self.lab_hours += other.lab_hours
        self.cpu_hours += other.cpu_hours
        self.memory_gib_hours += other.memory_gib_hours
        self.memory_peak = max(self.memory_peak, other.memory_peak)
        self.gpu_hours += other.gpu_hours
        self.users |= other.users
        if other.storage is not None:
            self.storage = (self.storage or 0) + other.storage

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "lab_hours": round(self.lab_hours, 3),
                "cpu_hours": round(self.cpu_hours, 3),
                "memory_gib_hours": round(self.memory_gib_hours, 3),
                "memory_peak_bytes": self.memory_peak, "gpu_hours": round(self.gpu_hours, 3),
                "active_users": len(self.users), "storage_bytes": self.storage}


SUMS = (func.sum(R.lab_seconds), func.sum(R.cpu_seconds), func.sum(R.memory_gib_hours),
        func.max(R.memory_peak), func.sum(R.gpu_seconds))


def _totals(name: str, lab: float, cpu: float, memory: float, peak: int, gpu: float,
            users: set[str]) -> Totals:
    return Totals(name, (lab or 0) / HOUR, (cpu or 0) / HOUR, memory or 0.0, peak or 0,
                  (gpu or 0) / HOUR, users)


def _in(since: datetime, until: datetime, hourly: bool = False):  # noqa: ANN202 (SQL)
    """Rows of [since, until): the daily ones when both are midnights (a 24th of the rows),
    else the hourly ones (kept USAGE_HOURLY_DAYS)."""
    if not hourly and since.timestamp() % DAY == 0 and until.timestamp() % DAY == 0:
        # The covering index alone (period, day, user, the figures): no row is read.
        return (R.period == DAILY) & (R.day >= since.date()) & (R.day < until.date())
    return ((R.period == HOURLY) & (R.day >= since.date()) & (R.day <= until.date())
            & (R.start >= since) & (R.start < until))


def per_user(store: PortalStore, since: datetime, until: datetime,
             user: str | None = None) -> dict[str, Totals]:
    query = select(R.user, *SUMS).where(_in(since, until)).group_by(R.user)
    if user is not None:
        query = query.where(R.user == user)
    with store.session() as db:
        return {name: _totals(name, *sums, {name} if sums[0] else set())
                for name, *sums in db.execute(query)}


@dataclass(frozen=True)
class Point:
    """Everyone's (or one user's) usage in one hour or UTC day."""

    when: datetime
    label: str
    seconds: float  # the bucket's length
    totals: Totals
    active_users: int

    @property
    def running_labs(self) -> float:
        """Labs running on average over the bucket."""
        return self.totals.lab_hours * HOUR / self.seconds

    def as_json(self) -> dict[str, object]:
        return {"start": self.when.isoformat(), **self.totals.as_json(),
                "active_users": self.active_users, "running_labs": round(self.running_labs, 3)}


def timeline(store: PortalStore, since: datetime, until: datetime, hourly: bool,
             user: str | None = None) -> list[Point]:
    """Everyone's (or `user`'s) totals per hour or per UTC day, with active users counted."""
    bucket = R.start if hourly else R.day
    active = func.count(distinct(case((R.lab_seconds > 0, R.user))))
    query = (select(bucket, *SUMS, active).where(_in(since, until, hourly))
             .group_by(bucket).order_by(bucket))
    if user is not None:
        query = query.where(R.user == user)
    points = []
    with store.session() as db:
        for when, *sums, count in db.execute(query):
            if not isinstance(when, datetime):
                when = datetime(when.year, when.month, when.day)
            label = f"{when:%Y-%m-%d %H:00}" if hourly else f"{when:%Y-%m-%d}"
            points.append(Point(when.replace(tzinfo=UTC), label, HOUR if hourly else DAY,
                                _totals(label, *sums, set()), count))
    return points


def storage_at_end(store: PortalStore, since: datetime, until: datetime,
                   user: str | None = None) -> dict[str, tuple[int, dict[str, int]]]:
    """Each user's last measured storage in the period: (bytes, bytes per volume key)."""
    last = (select(R.user, func.max(R.start).label("at"))
            .where(_in(since, until), R.storage.isnot(None)).group_by(R.user))
    if user is not None:
        last = last.where(R.user == user)
    last = last.subquery()
    query = select(R.user, R.storage, R.volumes).join(
        last, (R.user == last.c.user) & (R.start == last.c.at)).where(
        _in(since, until), R.storage.isnot(None))  # an hour and its day may share a start
    with store.session() as db:
        return {name: (storage, json.loads(volumes) if volumes else {})
                for name, storage, volumes in db.execute(query)}


def by_group(users: dict[str, Totals], members: dict[str, list[str]]) -> list[Totals]:
    """Each group's totals from its members' (a user in two groups counts in both); users in
    no group together under NO_GROUP. Largest lab hours first."""
    groups: dict[str, Totals] = defaultdict(lambda: Totals(""))
    grouped: set[str] = set()
    for group, names in members.items():
        for name in names:
            if name in users:
                groups[group].add(users[name])
                grouped.add(name)
    for name, totals in users.items():
        if name not in grouped:
            groups[NO_GROUP].add(totals)
    for group, totals in groups.items():
        totals.name = group
    return sorted(groups.values(), key=lambda t: (-t.lab_hours, t.name))


def monthly_report(store: PortalStore, since: datetime, until: datetime,
                   members: dict[str, list[str]]) -> list[Totals]:
    """Per group: the month's totals and the storage of its members at the month's end."""
    users = per_user(store, since, until)
    for name, (storage, _) in storage_at_end(store, since, until).items():
        users.setdefault(name, Totals(name)).storage = storage
    return by_group(users, members)
