"""Owns how Alembic reaches the portal's store: its connection, version table and models.

Alembic runs this file for every command. The portal passes its open connection (the store's
own thread, inside one transaction); the `alembic` command, used by developers to write a
revision, names the database in PORTAL_DATABASE_URL.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import MetaData, create_engine

from portal.store.migrations import VERSION_TABLE

config = context.config


def _configure(connection, target_metadata: MetaData | None) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,  # never "alembic_version": that row is the hub's
        render_as_batch=True,  # SQLite alters a table by copying it: autogenerate says so
    )
    with context.begin_transaction():
        context.run_migrations()


def _from_the_command_line() -> None:
    from portal.store.tables import metadata  # only autogenerate compares with the models

    url = os.environ.get("PORTAL_DATABASE_URL", "")
    if not url:
        raise SystemExit("PORTAL_DATABASE_URL: which store should the alembic command use?")
    if config.config_file_name:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _configure(connection, metadata())
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("The portal store's migrations run on a connection only (no --sql).")
if "connection" in config.attributes:
    _configure(config.attributes["connection"], None)
else:
    _from_the_command_line()
