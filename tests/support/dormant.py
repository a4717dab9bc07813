"""Dormant accounts as tests make them: an account's last activity moved into the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def idle_for(hub, name: str, days: int) -> None:
    """Write `name`'s last activity `days` ago into the hub's database (what the report reads)."""
    when = (datetime.now(UTC) - timedelta(days=days)).replace(tzinfo=None)
    hub.sql("hub", "UPDATE users SET last_activity = :t WHERE name = :n", t=when, n=name)


def dormant_names(html: str) -> list[str]:
    import re

    section = html.split('id="admin-dormant"', 1)[-1]
    return re.findall(r'<tr data-user="([^"]+)"', section)
