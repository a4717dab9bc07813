"""Owns the store's revision e5a9c3f17b42: environments (issue 25), what labs start from

Frozen: the columns are spelled out here, never taken from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5a9c3f17b42"
down_revision = "b7d41e9a3c52"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "environments",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("image", sa.String(255), nullable=False),
        sa.Column("memory", sa.BigInteger, nullable=True),
        sa.Column("cpus", sa.Float, nullable=True),
        sa.Column("gpu", sa.Boolean, nullable=False),
        sa.Column("variables", sa.Text, nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("changed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("environments")
