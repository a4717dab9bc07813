"""Owns the list of the modules whose tables live in the portal's store.

Each declares its rows on `store.Base`; importing them all gives the whole schema that the
migrations must produce (for the `alembic` command's autogenerate, and the test that compares).
"""

from __future__ import annotations

from sqlalchemy import MetaData

from . import audit, cull_policy, limits  # noqa: F401 (imported for the tables they declare)
from .store import Base


def metadata() -> MetaData:
    """Every table of the store, as the models declare them today."""
    return Base.metadata
