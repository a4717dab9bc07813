"""Owns read-only queries on the hub's own tables that more than one part of the portal needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jupyterhub import orm
from sqlalchemy import select
from sqlalchemy.orm import selectinload


def running_spawners(db: Any, default_only: bool = False) -> list[Any]:
    """Servers of every name (or only default ones) the hub has a server record for (running,
    or still starting), their users loaded 500 to a query (those in memory not again), the
    users' own relationships left lazy: a lazy load per server, with its selectin loads of
    groups, roles and shares, held the loop for 9 s per pass while 2,000 running users were
    not yet in memory."""
    query = db.query(orm.Spawner).filter(orm.Spawner.server_id.isnot(None))
    if default_only:
        query = query.filter(orm.Spawner.name == "")
    query = query.order_by(orm.Spawner.id).options(selectinload(orm.Spawner.user).lazyload("*"))
    return [s for s in query if s.user is not None]


def running_default_spawners(db: Any) -> list[Any]:
    """Only the default servers of `running_spawners`."""
    return running_spawners(db, default_only=True)


def running_server_names(db: Any, users: Iterable[str] | None = None) -> dict[str, list[str]]:
    """{user: names of their servers with a server record ("" the default), default first}
    of every user (or of `users`, 500 names to a query): names only, no ORM objects or
    relationships."""
    query = (select(orm.User.name, orm.Spawner.name).join(orm.Spawner.user)
             .where(orm.Spawner.server_id.isnot(None)))
    if users is None:
        rows = list(db.execute(query))
    else:
        names, rows = sorted(set(users)), []
        for start in range(0, len(names), 500):
            rows += db.execute(query.where(orm.User.name.in_(names[start:start + 500])))
    servers: dict[str, list[str]] = {}
    for user, server in sorted(rows):
        servers.setdefault(user, []).append(server)
    return servers


def running_server_count(db: Any) -> int:
    """Server records of every name (running, or still starting)."""
    return db.query(orm.Spawner).filter(orm.Spawner.server_id.isnot(None)).count()


def search_users(db: Any, query: str, limit: int = 10) -> list[str]:
    """User names containing `query` (case-insensitive, wildcards taken literally)."""
    pattern = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    q = db.query(orm.User.name).filter(orm.User.name.ilike(f"%{pattern}%", escape="\\"))
    return [row[0] for row in q.order_by(orm.User.name).limit(limit)]


def group_members(db: Any, only: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Every group's member names (groups without members included), by group name; `only`:
    just those groups (those that exist). One query of names, no ORM objects: loading groups
    with their users cost milliseconds on the event loop, growing with the members, and the
    Docker-access groups' guard asks every two seconds."""
    query = (select(orm.Group.name, orm.User.name).select_from(orm.Group)
             .outerjoin(orm.Group.users).order_by(orm.Group.name, orm.User.name))
    if only is not None:
        query = query.where(orm.Group.name.in_(list(only)))
    members: dict[str, list[str]] = {}
    for group, user in db.execute(query):
        names = members.setdefault(group, [])
        if user is not None:
            names.append(user)
    return members


def admin_names(db: Any) -> set[str]:
    return {name for (name,) in db.query(orm.User.name).filter(orm.User.admin.is_(True))}
