"""The batched activity update from the proxy's routes (portal/compat/activity.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jupyterhub import orm

from portal.compat.activity import apply_activity, route_activity

OLD, NEW = datetime(2026, 12, 1, 8), datetime(2026, 12, 1, 9)


def route(user: str | None, when: str | None, server: str = "") -> dict:
    data: dict = {} if user is None else {"user": user, "server_name": server}
    if when is not None:
        data["last_activity"] = when
    return {"data": data}


def test_routes_give_the_latest_activity_per_server_in_naive_utc():
    routes = {"/": route(None, "2026-12-01T09:00:00Z"),  # the hub's own route
              "/user/ann/": route("ann", "2026-12-01T10:00:00+01:00"),
              "/user/ann/x/": route("ann", "2026-12-01T07:00:00Z", "x"),
              "/user/bo/": route("bo", None)}  # a proxy without activity
    assert route_activity(routes) == {("ann", ""): NEW, ("ann", "x"): datetime(2026, 12, 1, 7)}


def test_activity_is_raised_never_lowered_and_unknown_users_are_skipped():
    db = orm.new_session_factory("sqlite:///:memory:")()
    ann, bo = orm.User(name="ann", last_activity=OLD), orm.User(name="bo", last_activity=NEW)
    db.add_all([ann, bo])
    db.flush()
    db.add_all([orm.Spawner(user=ann, name="", last_activity=None),
                orm.Spawner(user=bo, name="", last_activity=NEW)])
    db.commit()
    apply_activity(db, {("ann", ""): NEW, ("bo", ""): OLD, ("ghost", ""): NEW,
                        ("ann", "nosuch"): datetime(2027, 1, 1)})
    db.commit()
    assert ann.last_activity == NEW and ann.orm_spawners[""].last_activity == NEW
    assert bo.last_activity == NEW and bo.orm_spawners[""].last_activity == NEW  # not lowered


def test_users_held_in_memory_are_found_without_a_lookup_each():
    from types import SimpleNamespace

    from portal.platform.upstream import users_named

    class UserDict(dict):  # JupyterHub's: keyed by id, `[name]` loads (a query each)
        def __init__(self, held):
            super().__init__({i: SimpleNamespace(name=n) for i, n in enumerate(held)})
            self.loaded: list[str] = []

        def __getitem__(self, key):
            self.loaded.append(key)
            return SimpleNamespace(name=key)

    users = UserDict(["ann", "bo", "cy"])
    found = users_named(users, ["ann", "cy", "dee"])
    assert sorted(found) == ["ann", "cy", "dee"] and users.loaded == ["dee"]


def servers_of(names: list[str], group: str | None = None) -> Any:
    """A hub database where each of `names` has a default server, running but for cy's; all
    in `group` if given. Returns its session factory (a new session holds nothing of this)."""
    factory = orm.new_session_factory("sqlite:///:memory:")
    db = factory()
    groups = [orm.Group(name=group)] if group else []
    for name in names:
        user = orm.User(name=name, groups=groups)
        db.add(user)
        db.flush()
        server = orm.Server() if name != "cy" else None  # cy's server is stopped
        db.add(orm.Spawner(user=user, name="", server=server))
    db.commit()
    db.close()
    return factory


def test_running_servers_users_are_loaded_in_bulk_before_the_checks():
    from sqlalchemy import event

    from portal.compat.spawner_init import running_users

    db = servers_of(["ann", "bo", "cy"])()
    held = running_users(db)
    assert sorted(u.name for u in held) == ["ann", "bo"]
    statements: list[str] = []
    event.listen(db.get_bind(), "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    spawners = db.query(orm.Spawner).filter(orm.Spawner.server_id.isnot(None)).all()
    statements.clear()
    assert sorted(s.user.name for s in spawners) == ["ann", "bo"]
    assert statements == []  # each server's user came from memory, no query each


def test_running_default_servers_load_their_users_in_one_query_without_relationships():
    from sqlalchemy import event

    from portal.platform.hub_queries import running_default_spawners

    db = servers_of(["ann", "bo", "cy", "dee"], group="class")()
    statements: list[str] = []
    event.listen(db.get_bind(), "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    spawners = running_default_spawners(db)
    assert sorted(s.user.name for s in spawners) == ["ann", "bo", "dee"]
    queries = [s for s in statements if s != "SELECT 1"]  # (the pool's liveness check)
    assert len(queries) == 2  # the servers, then their users: no query per server
    assert [g.name for g in spawners[0].user.groups] == ["class"]  # still there, lazily
