"""Owns reading audit filters from a request (page form or API) and exporting events as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time, timedelta

from ..platform.errors import ActionRefused
from .log import AuditEvent, AuditQuery, EventKind

PAGE_SIZE = 50
MAX_LIMIT = 5000
CSV_FIELDS = ("id", "at", "actor", "kind", "target", "detail", "ok")


def _when(raw: str, name: str, end_of_day: bool = False) -> datetime | None:
    """`2026-12-01` (a whole day) or an ISO date-time; naive values are UTC."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ActionRefused(f"{name} must be a date (YYYY-MM-DD) or an ISO date-time.",
                            400) from None
    if len(raw) == 10 and end_of_day:  # a date alone: "until" includes that whole day
        value = datetime.combine(value.date(), time.min) + timedelta(days=1)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _number(raw: str, name: str, default: int, high: int) -> int:
    if not raw.strip():
        return default
    if not raw.strip().isdigit():
        raise ActionRefused(f"{name} must be a whole number.", 400)
    return min(int(raw), high)


def parse_query(get: Callable[[str], str]) -> AuditQuery:
    """Filters from request arguments (`get(name)` returns "" when absent); 400 on bad input."""
    kind = get("kind").strip()
    if kind and kind not in set(EventKind):
        raise ActionRefused(f"Unknown kind {kind[:40]!r}: choose one of "
                            f"{', '.join(EventKind)}.", 400)
    return AuditQuery(
        user=get("user").strip()[:255], actor=get("actor").strip()[:255], kind=kind,
        since=_when(get("since"), "since"), until=_when(get("until"), "until", end_of_day=True),
        limit=max(1, _number(get("limit"), "limit", PAGE_SIZE, MAX_LIMIT)),
        offset=_number(get("offset"), "offset", 0, 10**9),
    )


def as_csv(events: Iterable[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for e in events:
        row = e.as_json()
        # A cell a spreadsheet would run as a formula is written as text.
        writer.writerow(_inert(str(row[f])) for f in CSV_FIELDS)
    return out.getvalue()


def _inert(cell: str) -> str:
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
