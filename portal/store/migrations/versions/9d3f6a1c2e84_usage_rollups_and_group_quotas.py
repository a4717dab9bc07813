"""Owns the store's revision 9d3f6a1c2e84: usage rollups (hourly and daily), group quotas

Frozen: the columns are spelled out here, never taken from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "9d3f6a1c2e84"
down_revision = "5b7e0c3d9a21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_rollups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("server", sa.String(255), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("lab_seconds", sa.Float(), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        sa.Column("memory_gib_hours", sa.Float(), nullable=False),
        sa.Column("memory_peak", sa.BigInteger(), nullable=False),
        sa.Column("memory_limit", sa.BigInteger(), nullable=False),
        sa.Column("storage", sa.BigInteger(), nullable=True),
        sa.Column("volumes", sa.Text(), nullable=True),
        sa.Column("gpu_seconds", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(255), nullable=True),
        sa.UniqueConstraint("user", "server", "period", "start", name="uq_usage_rollups_period"),
    )
    op.create_index("ix_usage_rollups_days", "usage_rollups", [
        "period", "day", "user", "lab_seconds", "cpu_seconds", "memory_gib_hours",
        "memory_peak", "gpu_seconds"])
    op.create_table(
        "group_quotas",
        sa.Column("group", sa.String(255), primary_key=True),
        sa.Column("storage", sa.BigInteger(), nullable=True),
        sa.Column("lab_hours", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("group_quotas")
    op.drop_table("usage_rollups")
