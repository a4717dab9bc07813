"""Owns the store's revision 5b7e0c3d9a21: account states (disabled, or a password to choose)

Frozen: the columns are spelled out here, never taken from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5b7e0c3d9a21"
down_revision = "c4e1d2a7b9f0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_states",
        sa.Column("user", sa.String(255), primary_key=True),
        sa.Column("owner_key", sa.String(64), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("changed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("account_states")
