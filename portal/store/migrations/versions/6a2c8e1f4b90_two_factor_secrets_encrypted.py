"""Owns the store's revision 6a2c8e1f4b90: two-factor secrets encrypted at rest

The secret column grows to hold a Fernet token, and every secret stored in plain text before is
sealed with the hub's key (auth/secret_box.py), which the store hands to the migration. A store
holding plain secrets and no key refuses to upgrade (nothing changed) rather than keep them.

Frozen: the columns are spelled out here, never taken from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "6a2c8e1f4b90"
down_revision = "3f7b2d9e6c15"
branch_labels = None
depends_on = None

PREFIX = "fernet:"
_table = sa.table("two_factor", sa.column("user", sa.String), sa.column("secret", sa.String))


def _box():  # noqa: ANN202 (auth/secret_box.SecretBox, not imported: revisions stay frozen)
    box = op.get_context().config.attributes.get("two_factor_box")
    if box is None:
        raise RuntimeError("Portal store: two-factor secrets to encrypt or decrypt, and no key "
                           "was given to the migration; nothing was changed")
    return box


def upgrade() -> None:
    bind = op.get_bind()
    plain = bind.execute(sa.select(_table.c.user, _table.c.secret).where(
        sa.not_(_table.c.secret.startswith(PREFIX)))).all()
    box = _box() if plain else None  # before any change: SQLite's DDL is not rolled back
    with op.batch_alter_table("two_factor") as batch:
        batch.alter_column("secret", type_=sa.String(255), existing_type=sa.String(64),
                           existing_nullable=False)
    if box is not None:
        for user, secret in plain:
            bind.execute(_table.update().where(_table.c.user == user).values(
                secret=box.seal(secret)))


def downgrade() -> None:
    bind = op.get_bind()
    sealed = bind.execute(sa.select(_table.c.user, _table.c.secret).where(
        _table.c.secret.startswith(PREFIX))).all()
    if sealed:
        box = _box()
        for user, secret in sealed:  # all opened before the column shrinks
            opened = box.open(secret, user)
            if opened is None:
                raise RuntimeError(f"Portal store: the two-factor secret of {user} cannot be "
                                   "decrypted with this key; nothing was changed")
            bind.execute(_table.update().where(_table.c.user == user).values(secret=opened))
    with op.batch_alter_table("two_factor") as batch:
        batch.alter_column("secret", type_=sa.String(64), existing_type=sa.String(255),
                           existing_nullable=False)
