"""Owns the store's revision 3f7b2d9e6c15: accounts' own email addresses

Frozen: the columns are spelled out here, never taken from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3f7b2d9e6c15"
down_revision = "8e3a61f0d2b7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_addresses",
        sa.Column("user", sa.String(255), primary_key=True),
        sa.Column("owner_key", sa.String(64), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("changed", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_addresses")
