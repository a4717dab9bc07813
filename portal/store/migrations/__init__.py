"""Owns bringing the portal's store to its newest schema: Alembic, with a version table of its own.

The store may share a PostgreSQL database with the hub, whose Alembic keeps `alembic_version`;
the store's is `portal_alembic_version`, so neither ever reads or rewrites the other's row.
Revisions live in `versions/`; `env.py` is how Alembic reaches the store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection, Engine

from ...platform.logs import portal_logger

VERSION_TABLE = "portal_alembic_version"
FIRST = "c4e1d2a7b9f0"  # the schema create_all made before the store had migrations
HERE = Path(__file__).resolve().parent
log = portal_logger("store")


class StoreSchemaError(RuntimeError):
    """The store holds something this DS Hub cannot bring to its schema."""


def alembic_config(connection: Connection | None = None,
                   attributes: dict[str, Any] | None = None) -> Config:
    """The store's Alembic configuration; with `connection`, commands run on it; `attributes`
    reach revisions that need more than the schema (the two-factor key)."""
    config = Config(str(HERE / "alembic.ini"))
    config.attributes.update(attributes or {})
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def first_schema(scripts: ScriptDirectory | None = None) -> MetaData:
    """Revision 1's tables: the store as the portal made it before it had migrations."""
    scripts = scripts or ScriptDirectory.from_config(alembic_config())
    return scripts.get_revision(FIRST).module.SCHEMA


def head() -> str:
    """The newest revision of the store's schema."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The store's revision, or None when it has never been versioned."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade_to_head(engine: Engine, attributes: dict[str, Any] | None = None) -> str:
    """Create, adopt or upgrade the store's tables in one transaction; log and return how."""
    with _alembic_quiet(), engine.begin() as connection:
        config = alembic_config(connection, attributes)
        scripts = ScriptDirectory.from_config(config)
        before = current_revision(connection)
        adopted = before is None and _adopt(connection, config, scripts)
        if before is not None:
            _known(before, scripts)
        command.upgrade(config, "head")
        after = current_revision(connection)
    line = _summary(before, adopted, after)
    log.info(line)
    return line


@contextmanager
def _alembic_quiet() -> Iterator[None]:
    # Alembic logs each context and step at INFO (into the hub log once JupyterHub's own
    # migrations have hooked it there); the store says what happened in one line instead.
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _adopt(connection: Connection, config: Config, scripts: ScriptDirectory) -> bool:
    """Version a store made before migrations (create_all); False when it holds none of it."""
    schema = first_schema(scripts)
    inspector = inspect(connection)
    found = [table for table in schema.sorted_tables if inspector.has_table(table.name)]
    if not found:
        return False  # an empty store (or only the hub's tables): the migrations make it all
    for table in found:
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        if columns != set(table.columns.keys()):
            raise StoreSchemaError(
                f"Portal store: table {table.name} has the columns {sorted(columns)}, not those "
                f"of revision {FIRST} ({sorted(table.columns.keys())}); left as it is")
    if len(found) == len(schema.tables):
        command.stamp(config, FIRST)
    else:
        # Made by a build that had fewer tables: revision 1 creates only the missing ones.
        command.upgrade(config, FIRST)
    return True


def _known(revision: str, scripts: ScriptDirectory) -> None:
    try:
        scripts.get_revision(revision)
    except CommandError as error:
        raise StoreSchemaError(
            f"Portal store: at revision {revision}, which this DS Hub does not know (was it "
            "upgraded by a newer one?); left as it is") from error


def _summary(before: str | None, adopted: bool, after: str | None) -> str:
    if adopted:
        upgraded = "" if after == FIRST else f", upgraded to {after}"
        return f"Portal store: tables from before migrations stamped at {FIRST}{upgraded}"
    if before is None:
        return f"Portal store: created at {after}"
    if before == after:
        return f"Portal store: at {after}, nothing to upgrade"
    return f"Portal store: upgraded from {before} to {after}"
