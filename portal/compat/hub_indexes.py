"""Owns the indexes the portal's lookups need on tables it does not own: JupyterHub's `users`
(the admin table sorted by activity), `user_group_map` (a group's members: the table's group
filter, the Docker-access guard) and NativeAuthenticator's `users_info` (a sign-up by user name:
every sign-in, the table's addresses). Neither schema has them, and at 50,000 accounts each such
lookup scanned every row (8-25 ms on SQLite; docs/benchmarks.md, section 15).

Made at start where missing, on a connection of their own in a thread (an index over 50,000
rows takes a moment), named `ix_dshub_*` so they are told apart from the schemas' own. A column
that already leads an index (a later JupyterHub may add one) gets none.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from ..platform.logs import portal_logger

log = portal_logger()
INDEXES = (("ix_dshub_users_last_activity", "users", "last_activity"),
           ("ix_dshub_user_group_map_group_id", "user_group_map", "group_id"),
           ("ix_dshub_users_info_username", "users_info", "username"))


def add_indexes(url: str) -> list[str]:
    """The missing ones made (their names), on the database at `url`."""
    engine = sa.create_engine(url)
    made = []
    try:
        inspector = sa.inspect(engine)
        with engine.begin() as connection:
            for name, table, column in INDEXES:
                if not inspector.has_table(table):
                    continue  # another authenticator: no users_info
                led = [i["column_names"][:1] for i in inspector.get_indexes(table)]
                if [column] in led:
                    continue
                connection.execute(sa.text(f"CREATE INDEX {name} ON {table} ({column})"))
                made.append(name)
    finally:
        engine.dispose()
    return made


async def add_lookup_indexes(app: Any) -> None:
    """At the hub's start: the indexes above, where the hub's database lacks them."""
    url = app.db.get_bind().url.render_as_string(hide_password=False)
    try:
        made = await asyncio.to_thread(add_indexes, url)
    except sa.exc.SQLAlchemyError as e:  # lookups still work, only slower
        log.warning("Could not add the portal's lookup indexes: %s", e)
        return
    if made:
        log.info("Added indexes for the portal's lookups: %s", ", ".join(made))
