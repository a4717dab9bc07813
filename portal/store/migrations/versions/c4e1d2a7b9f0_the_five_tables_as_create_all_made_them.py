"""Owns the store's revision c4e1d2a7b9f0: the five tables as create_all made them

The first revision: the schema of the portal before its store had migrations. A frozen copy,
never the models (they will have moved on by the time this runs on an old store).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c4e1d2a7b9f0"
down_revision = None
branch_labels = None
depends_on = None


def _schema() -> sa.MetaData:
    schema = sa.MetaData()
    sa.Table(
        "broadcasts", schema,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("auto_close", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
    )
    sa.Table(
        "membership_changes", schema,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("group", sa.String(255), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
    )
    sa.Table(
        "audit_events", schema,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(255), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("target", sa.String(255), nullable=False, index=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    sa.Table(
        "group_limits", schema,
        sa.Column("group", sa.String(255), primary_key=True),
        sa.Column("memory", sa.BigInteger(), nullable=True),
        sa.Column("cpus", sa.Float(), nullable=True),
    )
    sa.Table(
        "cull_policy", schema,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("idle_after", sa.Float(), nullable=False),
        sa.Column("warning", sa.Float(), nullable=False),
        sa.Column("keep_max", sa.Float(), nullable=False),
        sa.Column("exempt", sa.Text(), nullable=False),
    )
    return schema


# Also read by portal.store.migrations to check an unversioned store before stamping it.
SCHEMA = _schema()


def upgrade() -> None:
    # Builds before some of these tables existed made stores that lack them: add only those.
    bind = op.get_bind()
    for table in SCHEMA.sorted_tables:
        if not sa.inspect(bind).has_table(table.name):
            table.create(bind)  # with its indexes (ix_audit_events_at, ...)


def downgrade() -> None:
    for table in reversed(SCHEMA.sorted_tables):
        op.drop_table(table.name)
