"""Owns the period a report covers: day, week, month or custom dates, read from the URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from ..platform.errors import ActionRefused

NAMES = ("day", "week", "month", "custom")
LONGEST = 800  # days a custom period may span


@dataclass(frozen=True)
class Period:
    name: str
    since: datetime  # UTC, included
    until: datetime  # UTC, excluded

    @property
    def hourly(self) -> bool:
        """Charts by hour for two days or less, else by day."""
        return self.until - self.since <= timedelta(days=2)

    @property
    def last_day(self) -> date:
        return (self.until - timedelta(seconds=1)).date()

    @property
    def args(self) -> dict[str, str]:
        """The URL arguments that name this period again."""
        if self.name != "custom":
            return {"period": self.name}
        return {"period": "custom", "since": self.since.date().isoformat(),
                "until": self.last_day.isoformat()}

    @property
    def query(self) -> str:
        return urlencode(self.args)

    @property
    def words(self) -> str:
        last = self.until - timedelta(seconds=1)
        if self.hourly:
            return f"{self.since:%Y-%m-%d %H:%M} to {self.until:%Y-%m-%d %H:%M} UTC"
        return f"{self.since:%Y-%m-%d} to {last:%Y-%m-%d} (UTC days)"


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ActionRefused(f"{name} must be a date (YYYY-MM-DD).", 400) from None


def parse_period(get: Callable[[str], str], now: datetime) -> Period:
    """From `period` (and `since`, `until` for custom dates); the default is the last week."""
    name = get("period").strip() or "week"
    tomorrow = midnight(now.date() + timedelta(days=1))
    if name == "day":
        hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return Period(name, hour - timedelta(hours=24), hour)
    if name == "week":
        return Period(name, tomorrow - timedelta(days=7), tomorrow)
    if name == "month":
        return Period(name, tomorrow - timedelta(days=30), tomorrow)
    if name != "custom":
        raise ActionRefused(f"period must be one of: {', '.join(NAMES)}.", 400)
    since, last = _day(get("since"), "since"), _day(get("until"), "until")
    if last < since:
        raise ActionRefused("until must not be before since.", 400)
    if (last - since).days >= LONGEST:
        raise ActionRefused(f"A custom period spans at most {LONGEST} days.", 400)
    return Period(name, midnight(since), midnight(last + timedelta(days=1)))


def parse_month(raw: str, now: datetime) -> tuple[datetime, datetime]:
    """`2026-11` -> [its first day, the next month's); empty: the current month."""
    raw = raw.strip() or f"{now:%Y-%m}"
    try:
        first = date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise ActionRefused("month must be a month (YYYY-MM).", 400) from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return midnight(first), midnight(following)
