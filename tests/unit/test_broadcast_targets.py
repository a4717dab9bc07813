"""Who a broadcast reaches on the hub's real ORM (SQLite): every server of each recipient with
a server record, named ones too, each its own target; a user with none running is one target
saying why."""

from __future__ import annotations

from types import SimpleNamespace

from jupyterhub import orm

from portal.broadcast.message import Recipients
from portal.broadcast.targets import INGEST_PATH, NOT_RUNNING, resolve_targets
from portal.platform.hub_queries import running_server_count, running_server_names

RUNNING = {"ann": ["", "gpu"], "bo": [], "cy": ["x"]}  # servers with a server record
STOPPED = {"ann": ["old"], "bo": [""]}  # server records gone


def hub(tmp_path):
    """The hub's database and its UserDict stand-in (`users[orm_user]`: name, spawners)."""
    db = orm.new_session_factory(f"sqlite:///{tmp_path}/jupyterhub.sqlite")()
    group = orm.Group(name="g")
    users: dict = {}
    for name in RUNNING:
        user = orm.User(name=name)
        db.add(user)
        spawners = {}
        for server in RUNNING[name] + STOPPED.get(name, []):
            running = server in RUNNING[name]
            record = orm.Server() if running else None
            db.add_all([orm.Spawner(name=server, user=user, server=record)]
                       + ([record] if record else []))
            path = f"/user/{name}/{server + '/' if server else ''}"
            spawners[server] = SimpleNamespace(
                ready=running, pending=None,
                server=SimpleNamespace(url=path) if running else None)
        if name in ("ann", "bo"):
            group.users.append(user)
        spawners.setdefault("", SimpleNamespace(ready=False, pending=None, server=None))
        users[user] = SimpleNamespace(name=name, spawners=spawners, spawner=spawners[""])
    db.add(group)
    db.commit()
    return db, users


def reached(targets) -> list[tuple[str, str, str | None]]:
    return [(t.user, t.server, t.url and t.url.removesuffix(INGEST_PATH)) for t in targets]


async def test_every_running_server_of_each_recipient_is_a_target(tmp_path):
    db, users = hub(tmp_path)
    everyone = await resolve_targets(Recipients(), db, users)
    assert reached(everyone) == [("ann", "", "/user/ann/"), ("ann", "gpu", "/user/ann/gpu/"),
                                 ("cy", "x", "/user/cy/x/")]
    chosen = await resolve_targets(Recipients("users", ("cy", "bo")), db, users)
    assert reached(chosen) == [("bo", "", None), ("cy", "x", "/user/cy/x/")]
    assert chosen[0].reason == NOT_RUNNING
    group = await resolve_targets(Recipients("groups", ("g",)), db, users)
    assert [(t.user, t.server) for t in group] == [("ann", ""), ("ann", "gpu"), ("bo", "")]
    assert [t.lab for t in group] == ["ann/", "ann/gpu", "bo/"]  # each token's server


def test_running_servers_are_counted_and_named_per_user(tmp_path):
    """What the broadcast composer and the admin dashboard count: servers, named ones too."""
    db, _ = hub(tmp_path)
    assert running_server_names(db) == {"ann": ["", "gpu"], "cy": ["x"]}
    assert running_server_names(db, ["cy", "bo"]) == {"cy": ["x"]}
    assert running_server_count(db) == 3
