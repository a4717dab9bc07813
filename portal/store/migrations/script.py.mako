"""Owns the store's revision ${up_revision}: ${message}

Revises ${down_revision | comma,n}; made ${create_date}. A frozen step: it never imports the
models, which will have moved on by the time it runs on an old store.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision = "${up_revision}"
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
