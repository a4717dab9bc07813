"""The portal's lookup indexes on JupyterHub's and NativeAuthenticator's tables: made once where
missing, used by the lookups they are for, none where a column already leads an index."""

from __future__ import annotations

import sqlalchemy as sa
from jupyterhub import orm
from nativeauthenticator.orm import UserInfo

from portal.compat.hub_indexes import INDEXES, add_indexes


def plan(engine: sa.Engine, query: str) -> str:
    with engine.connect() as connection:
        return " ".join(str(row[-1]) for row in connection.execute(
            sa.text(f"EXPLAIN QUERY PLAN {query}")))


def test_the_indexes_are_made_once_and_used(tmp_path):
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    engine = sa.create_engine(url)
    orm.Base.metadata.create_all(engine)
    UserInfo.metadata.create_all(engine)
    assert "SCAN" in plan(engine, "SELECT id FROM users_info WHERE username = 'ann'")

    assert add_indexes(url) == [name for name, _, _ in INDEXES]
    assert add_indexes(url) == []  # a second start: nothing to do
    engine.dispose()  # sqlite3 keeps its prepared statements (and their plans) per connection
    assert "ix_dshub_users_info_username" in plan(
        engine, "SELECT id FROM users_info WHERE username = 'ann'")
    assert "ix_dshub_user_group_map_group_id" in plan(
        engine, "SELECT user_id FROM user_group_map WHERE group_id = 7")
    assert "ix_dshub_users_last_activity" in plan(
        engine, "SELECT name FROM users ORDER BY last_activity DESC LIMIT 50")


def test_a_database_without_users_info_gets_the_hubs_indexes_only(tmp_path):
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    hubs_own = [t for t in orm.Base.metadata.sorted_tables if t.name != "users_info"]
    orm.Base.metadata.create_all(sa.create_engine(url), tables=hubs_own)
    assert add_indexes(url) == ["ix_dshub_users_last_activity",
                                "ix_dshub_user_group_map_group_id"]
