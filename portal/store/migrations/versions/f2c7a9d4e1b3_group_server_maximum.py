"""Owns the store's revision f2c7a9d4e1b3: a group's maximum of named servers (issue 25)

Frozen: the column is spelled out here, never taken from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f2c7a9d4e1b3"
down_revision = "e5a9c3f17b42"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # None: the hub's default (NAMED_SERVERS_MAX); existing overrides keep following it.
    with op.batch_alter_table("group_limits") as table:
        table.add_column(sa.Column("servers", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("group_limits") as table:
        table.drop_column("servers")
