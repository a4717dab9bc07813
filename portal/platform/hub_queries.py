"""Owns read-only queries on the hub's own tables that more than one part of the portal needs."""

from __future__ import annotations

from typing import Any

from jupyterhub import orm


def running_default_spawners(db: Any) -> list[Any]:
    """Default servers the hub has a server record for (running, or still starting)."""
    query = db.query(orm.Spawner).filter(orm.Spawner.server_id.isnot(None), orm.Spawner.name == "")
    return [s for s in query if s.user is not None]


def running_user_names(db: Any) -> set[str]:
    return {s.user.name for s in running_default_spawners(db)}


def search_users(db: Any, query: str, limit: int = 10) -> list[str]:
    """User names containing `query` (case-insensitive, wildcards taken literally)."""
    pattern = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    q = db.query(orm.User.name).filter(orm.User.name.ilike(f"%{pattern}%", escape="\\"))
    return [row[0] for row in q.order_by(orm.User.name).limit(limit)]


def group_members(db: Any) -> dict[str, list[str]]:
    """Every group's member names (groups without members included), by group name."""
    members: dict[str, list[str]] = {}
    for group in db.query(orm.Group).order_by(orm.Group.name):
        members[group.name] = sorted(u.name for u in group.users)
    return members


def admin_names(db: Any) -> set[str]:
    return {name for (name,) in db.query(orm.User.name).filter(orm.User.admin.is_(True))}
