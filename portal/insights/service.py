"""Owns the Insights reports as the pages and exports show them: the period's tables (every
hour or day present, zeros included), their charts, the monthly report, one user's own usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy.orm import Session

from ..governance.usage import LabUsage
from ..store.database import PortalStore
from . import reports
from .charts import Chart, columns, ranking
from .periods import Period, midnight
from .reports import Point, Totals
from .rollups import DAY, HOUR

TOP_USERS = 10
# The page's table of users: the top ones (5,000 rows would be megabytes of HTML rendered on
# the event loop); the exports hold every user.
TABLE_USERS = 100
TABLES = ("timeline", "daily", "groups", "users")


def hours(value: float) -> str:
    return f"{value:.1f} h" if value < 100 else f"{value:.0f} h"


def labs(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def filled(points: list[Point], since: datetime, until: datetime, hourly: bool) -> list[Point]:
    """One point per hour (or day) of the period, zero where nothing ran."""
    step = timedelta(seconds=HOUR if hourly else DAY)
    have = {p.when: p for p in points}
    out, when = [], since
    while when < until:
        label = f"{when:%Y-%m-%d %H:00}" if hourly else f"{when:%Y-%m-%d}"
        out.append(have.get(when) or Point(when, label, step.total_seconds(), Totals(label), 0))
        when += step
    return out


@dataclass(frozen=True)
class Insights:
    period: Period
    timeline: list[Point]  # by hour or day, as the period's charts go
    daily: list[Point]  # by UTC day (active users per day)
    groups: list[Totals]
    users: list[Totals]  # largest lab hours first

    def rows(self, table: str) -> list[dict[str, object]]:
        """A table as plain rows (the exports)."""
        if table in ("timeline", "daily"):
            return [p.as_json() for p in getattr(self, table)]
        return [t.as_json() for t in getattr(self, table)]

    def charts(self, user_link: str, group_link: str) -> dict[str, Chart]:
        top = self.users[:TOP_USERS]
        return {
            "active": columns("Active users per day",
                              [(p.label[5:], p.active_users) for p in self.daily], _count),
            "running": columns("Running labs (average)", [
                (p.label[11:16] if self.period.hourly else p.label[5:], p.running_labs)
                for p in self.timeline], labs),
            "groups": ranking("Lab hours by group", [
                (g.name, g.lab_hours, None if g.name == reports.NO_GROUP
                 else group_link + quote(g.name)) for g in self.groups], hours),
            "users": ranking(f"Top {len(top)} users by lab hours", [
                (u.name, u.lab_hours, user_link + quote(u.name)) for u in top], hours),
        }


def _count(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


async def insights(store: PortalStore, period: Period, members: dict[str, list[str]]) -> Insights:
    def load(db: Session) -> Insights:
        users = reports.per_user(db, period.since, period.until)
        daily = reports.timeline(db, period.since, period.until, hourly=False)
        timeline = (reports.timeline(db, period.since, period.until, hourly=True)
                    if period.hourly else daily)
        day_start = midnight(period.since.date())
        return Insights(
            period,
            filled(timeline, period.since, period.until, period.hourly),
            filled(daily, day_start, period.until, hourly=False),
            reports.by_group(users, members),
            sorted(users.values(), key=lambda t: (-t.lab_hours, t.name)),
        )

    return await store.read(load)


async def monthly(store: PortalStore, since: datetime, until: datetime,
                  members: dict[str, list[str]]) -> list[Totals]:
    return await store.read(reports.monthly_report, since, until, members)


@dataclass(frozen=True)
class OwnUsage:
    week: Totals
    month: Totals
    days: list[Point]  # this month, by day
    memory_limit: int  # bytes; 0: none
    volumes: dict[str, int]  # bytes per volume key, the latest measured
    volumes_at: str  # where the sizes come from

    def charts(self) -> dict[str, Chart]:
        return {
            "hours": columns("Lab hours per day", [(p.label[8:], p.totals.lab_hours)
                                                   for p in self.days], hours, every=5),
            "memory": columns("Peak memory per day (GiB)", [
                (p.label[8:], p.totals.memory_peak / 2**30) for p in self.days],
                lambda v: f"{v:.1f}", limit=self.memory_limit / 2**30 or None, every=5),
        }

    def as_json(self) -> dict[str, object]:
        return {"week": self.week.as_json(), "month": self.month.as_json(),
                "days": [p.as_json() for p in self.days],
                "memory_limit_bytes": self.memory_limit or None, "volumes": self.volumes}


async def own_usage(store: PortalStore, user: str, now: datetime, live: LabUsage | None,
                    limit: int) -> OwnUsage:
    """This ISO week's and this month's (UTC) figures of `user`, and storage per volume."""
    week_start = midnight(now.date() - timedelta(days=now.weekday()))
    month_start = midnight(now.date().replace(day=1))
    tomorrow = midnight(now.date()) + timedelta(days=1)

    def load(db: Session) -> OwnUsage:
        week = reports.per_user(db, week_start, tomorrow, user).get(user, Totals(user))
        month = reports.per_user(db, month_start, tomorrow, user).get(user, Totals(user))
        days = filled(reports.timeline(db, month_start, tomorrow, False, user),
                      month_start, tomorrow, hourly=False)
        stored = reports.storage_at_end(db, datetime(2000, 1, 1, tzinfo=UTC), tomorrow, user)
        volumes, where = (stored[user][1], "the usage history") if user in stored else ({}, "")
        if live is not None and any(v is not None for v in live.volumes.values()):
            volumes = {k: v for k, v in live.volumes.items() if v is not None}
            where = "your running servers"
        return OwnUsage(week, month, days, limit, volumes, where)

    return await store.read(load)


