"""Owns the store's revision 8e3a61f0d2b7: two-factor sign-in and the admins' account rules
(two-factor for host power, automatic disable of dormant accounts)

Frozen: the columns are spelled out here, never taken from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8e3a61f0d2b7"
down_revision = "9d3f6a1c2e84"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "two_factor",
        sa.Column("user", sa.String(255), primary_key=True),
        sa.Column("owner_key", sa.String(64), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("recovery", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "account_policy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("require_2fa_host_power", sa.Boolean(), nullable=False),
        sa.Column("dormant_disable_days", sa.Integer(), nullable=False),
        sa.Column("changed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("account_policy")
    op.drop_table("two_factor")
