"""Owns the store's revision b7d41e9a3c52: usage rollups per ISO week and calendar month, and
everyone's totals per hour and day

A report over a year then reads a row per user and month instead of one per user and day (over
30 days, one per week), and its charts a row per day (everyone's totals, kept by each write).
A store of the release before gets both from the rows it holds, in the upgrade's one
transaction: each week's and month's rows from its days' rows, each hour's and day's totals
from that period's rows.

Frozen: the columns are spelled out here, never taken from the models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "b7d41e9a3c52"
down_revision = "6a2c8e1f4b90"
branch_labels = None
depends_on = None

FIGURES = ("lab_seconds", "cpu_seconds", "memory_gib_hours", "gpu_seconds")
_rollups = sa.table(
    "usage_rollups", sa.column("user", sa.String), sa.column("server", sa.String),
    sa.column("period", sa.String), sa.column("start", sa.DateTime(timezone=True)),
    sa.column("day", sa.Date), *(sa.column(name, sa.Float) for name in FIGURES),
    sa.column("memory_peak", sa.BigInteger), sa.column("memory_limit", sa.BigInteger),
    sa.column("storage", sa.BigInteger), sa.column("volumes", sa.Text),
    sa.column("samples", sa.Integer))


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _rows_from_days(bind: sa.Connection, level: str, first: date, following: date) -> None:
    """One week's or month's rows from its days' rows: sums, the highest peak and limit, the
    storage of the last day that measured any."""
    rows, later = _rollups.alias("r"), _rollups.alias("s")

    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    until = datetime(following.year, following.month, following.day, tzinfo=UTC)

    def last_measured(name: str) -> sa.ScalarSelect:
        # On (user, server, period, start): the unique constraint's index finds the few rows
        # (a range of `day` would have the database walk every user's days, for each user).
        return (sa.select(later.c[name])
                .where(later.c.user == rows.c.user, later.c.server == rows.c.server,
                       later.c.period == "day", later.c.start >= since,
                       later.c.start < until, later.c.storage.isnot(None))
                .order_by(later.c.start.desc()).limit(1).scalar_subquery())

    query = (sa.select(
        rows.c.user, rows.c.server, sa.literal(level, sa.String),
        sa.literal(since, sa.DateTime(timezone=True)),
        sa.literal(first, sa.Date), *(sa.func.sum(rows.c[name]) for name in FIGURES),
        sa.func.max(rows.c.memory_peak), sa.func.max(rows.c.memory_limit),
        last_measured("storage"), last_measured("volumes"), sa.func.sum(rows.c.samples))
        .where(rows.c.period == "day", rows.c.day >= first, rows.c.day < following)
        .group_by(rows.c.user, rows.c.server))
    bind.execute(_rollups.insert().from_select(
        ["user", "server", "period", "start", "day", *FIGURES, "memory_peak", "memory_limit",
         "storage", "volumes", "samples"], query))


def upgrade() -> None:
    totals = op.create_table(
        "usage_totals",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("start", sa.DateTime(timezone=True), primary_key=True),
        *(sa.Column(name, sa.Float(), nullable=False) for name in FIGURES),
        sa.Column("memory_peak", sa.BigInteger(), nullable=False),
        sa.Column("active_users", sa.Integer(), nullable=False),
    )
    bind = op.get_bind()
    oldest, newest = bind.execute(sa.select(sa.func.min(_rollups.c.day), sa.func.max(
        _rollups.c.day)).where(_rollups.c.period == "day")).one()
    if oldest is not None:  # SQLite answers a string
        oldest, newest = date.fromisoformat(str(oldest)[:10]), date.fromisoformat(str(newest)[:10])
        first = oldest.replace(day=1)
        while first <= newest:
            _rows_from_days(bind, "month", first, _next_month(first))
            first = _next_month(first)
        first = oldest - timedelta(days=oldest.weekday())
        while first <= newest:
            _rows_from_days(bind, "week", first, first + timedelta(days=7))
            first += timedelta(days=7)
    r = _rollups
    active = sa.func.count(sa.distinct(sa.case((r.c.lab_seconds > 0, r.c.user))))
    bind.execute(totals.insert().from_select(
        ["period", "start", *FIGURES, "memory_peak", "active_users"],
        sa.select(r.c.period, r.c.start, *(sa.func.sum(r.c[name]) for name in FIGURES),
                  sa.func.max(r.c.memory_peak), active)
        .where(r.c.period.in_(("hour", "day"))).group_by(r.c.period, r.c.start)))


def downgrade() -> None:
    op.drop_table("usage_totals")
    op.execute(_rollups.delete().where(_rollups.c.period.in_(("week", "month"))))
