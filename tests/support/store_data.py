"""Portal stores in the states an upgrade meets, and what they hold, read without the portal.

Rows and tables follow revision 1 (the schema before migrations), never today's models: a store
left by an old release keeps that shape whatever the models become.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from jupyterhub import orm
from sqlalchemy import create_engine, inspect, select, text

from portal.store.database import PortalStore
from portal.store.migrations import FIRST, VERSION_TABLE, alembic_config, first_schema
from portal.store.tables import metadata

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ROWS: dict[str, dict[str, Any]] = {
    "broadcasts": {"id": 1, "sender": "admin", "created": AT, "message": "Kept across upgrades",
                   "type": "info", "auto_close": None, "recipients": '{"all": true}',
                   "results": '[{"user": "ana", "ok": true, "reason": ""}]'},
    "membership_changes": {"id": 1, "actor": "admin", "created": AT, "group": "docker-sock",
                           "user": "ana", "action": "added"},
    "audit_events": {"id": 1, "at": AT, "actor": "admin", "kind": "broadcast", "target": "all",
                     "detail": "1 of 1 delivered", "ok": True},
    "group_limits": {"group": "team-x", "memory": 2**33, "cpus": 1.5},
    "cull_policy": {"id": 1, "idle_after": 3600.0, "warning": 300.0, "keep_max": 86400.0,
                    "exempt": "staff,teachers"},
}

# Tables later revisions added (revision 1's are ROWS' keys).
LATER_TABLES = ("account_states", "usage_rollups", "group_quotas", "two_factor", "account_policy",
                "email_addresses", "usage_totals", "environments")


def unversioned_store(url: str, tables: tuple[str, ...] = tuple(ROWS)) -> None:
    """What a release before migrations left: its tables (create_all), a row in each."""
    schema = first_schema()
    engine = create_engine(url)
    try:
        wanted = [schema.tables[name] for name in tables]
        schema.create_all(engine, tables=wanted)
        _fill(engine, wanted)
    finally:
        engine.dispose()


def store_at_first_revision(url: str) -> None:
    """A versioned store at revision 1 (made by the migrations), a row in each table."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), FIRST)
        _fill(engine, first_schema().sorted_tables)
    finally:
        engine.dispose()


def _fill(engine, tables) -> None:  # noqa: ANN001
    with engine.begin() as connection:
        for table in tables:
            connection.execute(table.insert().values(**ROWS[table.name]))


def contents(url: str) -> dict[str, list[tuple]]:
    """Every row of revision 1's columns, per table that exists."""
    engine = create_engine(url)
    try:
        found = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            return {table.name: [tuple(row) for row in connection.execute(select(table))]
                    for table in first_schema().sorted_tables if table.name in found}
    finally:
        engine.dispose()


def version_rows(url: str) -> dict[str, list[str]]:
    """The hub's and the store's Alembic version rows, per version table that exists."""
    engine = create_engine(url)
    try:
        found = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            return {name: list(connection.scalars(text(f"SELECT version_num FROM {name}")))
                    for name in ("alembic_version", "portal_alembic_version") if name in found}
    finally:
        engine.dispose()


def hub_database(url: str) -> None:
    """JupyterHub's own start on `url`: its tables, its version row, and its check of that
    row (it raises when the row is not its head)."""
    sessions = orm.new_session_factory(url)
    sessions.kw["bind"].dispose()


async def first_use(url: str) -> PortalStore:
    """A portal store on `url`, used once (which brings its schema to head)."""
    store = PortalStore(url)
    await store.broadcasts()
    return store


def schema_differences(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the store equal the models (the hub's
    tables, if any, excluded)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "version_table": VERSION_TABLE, "compare_type": True,
                "include_name": lambda name, kind, _: kind != "table" or name in ROWS
                or name in LATER_TABLES})
            return compare_metadata(context, metadata())
    finally:
        engine.dispose()
