"""Owns what the usage history answers: totals per user, per group and per hour or day over a
period, the monthly report per group, and one user's own figures. Each function is given a
session of one snapshot of the store, on a reading thread (`PortalStore.read`); groups are the
hub's memberships as they are now.

Which rows answer: over whole UTC days, a month's rows for each calendar month inside the
period, a week's for each ISO week inside what is left, and the days' rows around them (a
year: about 20 rows per user, not 365), and everyone's totals per day for the charts;
otherwise the hourly rows (kept USAGE_HOURLY_DAYS).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from ..store.tables import UsageRollupRow as R
from ..store.tables import UsageTotalRow as T
from .rollup_rows import DAILY, HOURLY, LONGER, level_end, level_start
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


def _whole_days(since: datetime, until: datetime) -> bool:
    return since.timestamp() % DAY == 0 and until.timestamp() % DAY == 0


def _rows_of(since: datetime, until: datetime, hourly: bool = False) -> ColumnElement[bool]:
    """Rows of [since, until) at one level: the days' when both are midnights, else the
    hours'."""
    if not hourly and _whole_days(since, until):
        # The covering index alone (period, day, user, the figures): no row is read.
        return (R.period == DAILY) & (R.day >= since.date()) & (R.day < until.date())
    return ((R.period == HOURLY) & (R.day >= since.date()) & (R.day <= until.date())
            & (R.start >= since) & (R.start < until))


def _parts(first: date, end: date, levels: tuple[str, ...]) -> list[tuple[str, date, date]]:
    """[first, end) as (level, from, to), in time order: the longest level's whole periods
    inside it, the rest around them the same way with the next level, days last."""
    if not levels:
        return [(DAILY, first, end)] if first < end else []
    level, shorter = levels[-1], levels[:-1]
    start = level_start(level, first)
    inner_from = first if start == first else level_end(level, start)
    inner_to = level_start(level, end)
    if inner_from >= inner_to:
        return _parts(first, end, shorter)
    return [*_parts(first, inner_from, shorter), (level, inner_from, inner_to),
            *_parts(inner_to, end, shorter)]


def segments(since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    """The rows that hold [since, until) once each, in time order: over whole days the rows of
    each calendar month inside it, then of each ISO week inside what is left, then of the days
    (a year: about 24 rows per user, the last 30 days about 6; not 365 and 30)."""
    if not _whole_days(since, until):
        return [_rows_of(since, until)]
    return [(R.period == level) & (R.day >= a) & (R.day < b)
            for level, a, b in _parts(since.date(), until.date(), LONGER)]


def per_user(db: Session, since: datetime, until: datetime,
             user: str | None = None) -> dict[str, Totals]:
    # One query, its parts ORed: SQLite reads each part from the covering index and sums a
    # user once (a result row costs more in Python than a thousand index entries in SQL).
    query = select(R.user, *SUMS).where(or_(*segments(since, until))).group_by(R.user)
    if user is not None:
        query = query.where(R.user == user)
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


def _point(when: object, hourly: bool, totals: tuple, active: int) -> Point:
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)  # a date
    # SQLite answers without a zone; PostgreSQL in the session's.
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    label = f"{when:%Y-%m-%d %H:00}" if hourly else f"{when:%Y-%m-%d}"
    return Point(when, label, HOUR if hourly else DAY,
                 _totals(label, *totals, set()), active)


def timeline(db: Session, since: datetime, until: datetime, hourly: bool,
             user: str | None = None) -> list[Point]:
    """Everyone's (or `user`'s) totals per hour or per UTC day, with active users counted;
    everyone's read from the totals kept per hour and day."""
    if user is None and (hourly or _whole_days(since, until)):
        query = (select(T.start, T.lab_seconds, T.cpu_seconds, T.memory_gib_hours,
                        T.memory_peak, T.gpu_seconds, T.active_users)
                 .where(T.period == (HOURLY if hourly else DAILY), T.start >= since,
                        T.start < until).order_by(T.start))
    else:  # one user's, or the days of the last 24 hours (parts of days: their hours)
        bucket = R.start if hourly else R.day
        active = func.count(distinct(case((R.lab_seconds > 0, R.user))))
        query = (select(bucket, *SUMS, active).where(_rows_of(since, until, hourly))
                 .group_by(bucket).order_by(bucket))
        if user is not None:
            query = query.where(R.user == user)
    return [_point(when, hourly, sums, count) for when, *sums, count in db.execute(query)]


def storage_at_end(db: Session, since: datetime, until: datetime,
                   user: str | None = None) -> dict[str, tuple[int, dict[str, int]]]:
    """Each user's last measured storage in the period: (bytes, bytes per volume key). Rows of
    several servers at that time (named servers) are one union: home and cache are in each of
    them under the same key, a named server's own volumes under `<server>/<key>`."""
    found: dict[str, tuple[int, dict[str, int]]] = {}
    for rows in segments(since, until):  # in time order: a later part's storage wins
        last = (select(R.user, func.max(R.start).label("at"))
                .where(rows, R.storage.isnot(None)).group_by(R.user))
        if user is not None:
            last = last.where(R.user == user)
        last = last.subquery()
        query = select(R.user, R.storage, R.volumes).join(
            last, (R.user == last.c.user) & (R.start == last.c.at)).where(
            rows, R.storage.isnot(None))  # an hour, its day and month may share a start
        part: dict[str, tuple[int, dict[str, int]]] = {}
        for name, storage, volumes in db.execute(query):
            held, keys = part.get(name, (0, {}))
            keys = {**keys, **(json.loads(volumes) if volumes else {})}
            part[name] = (sum(keys.values()) if keys else max(held, storage), keys)
        found.update(part)
    return found


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


def monthly_report(db: Session, since: datetime, until: datetime,
                   members: dict[str, list[str]]) -> list[Totals]:
    """Per group: the month's totals and the storage of its members at the month's end."""
    users = per_user(db, since, until)
    for name, (storage, _) in storage_at_end(db, since, until).items():
        users.setdefault(name, Totals(name)).storage = storage
    return by_group(users, members)
