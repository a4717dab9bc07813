"""Owns the hub's periodic activity update from the proxy, in a few queries instead of thousands.

JupyterHub's `update_last_activity` (every `last_activity_interval`, 5 minutes) looks up each
user route's user with `User.find`: one query per running server, each followed by the
selectin loads of the user's groups, roles and shares and an autoflush of the activity just
set. With 2,000 running servers and 50,000 users that held the event loop for 35-41 s every five
minutes (benchmarks/hub_scale.py, both JupyterHub lines). `apply()` replaces it with the same
update made from two queries per 500 users (relationships left lazy), one commit, then the same
`check_routes`. Delete this module once JupyterHub batches the update itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dateutil.parser import parse as parse_date
from jupyterhub import orm
from jupyterhub.app import JupyterHub
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import lazyload

CHUNK = 500  # names per IN (...) query


def route_activity(routes: dict[str, Any]) -> dict[tuple[str, str], datetime]:
    """{(user, server name): latest activity, naive UTC} from the proxy's routes, as JupyterHub
    reads them (routes without a user or server name are not users')."""
    found: dict[tuple[str, str], datetime] = {}
    for route in routes.values():
        data = route["data"]
        if "user" not in data or "server_name" not in data:
            continue
        if "last_activity" not in data:
            continue  # a proxy other than CHP
        when = parse_date(data["last_activity"])
        if when.tzinfo:
            when = when.astimezone(UTC).replace(tzinfo=None)
        key = (data["user"], data["server_name"])
        found[key] = max(found.get(key, when), when)
    return found


def apply_activity(db: Any, activity: dict[tuple[str, str], datetime]) -> None:
    """Raise each user's and server's last_activity to what the proxy saw (never lower it)."""
    by_user: dict[str, list[tuple[str, datetime]]] = {}
    for (user, server), when in activity.items():
        by_user.setdefault(user, []).append((server, when))
    names = sorted(by_user)
    for start in range(0, len(names), CHUNK):
        users = {u.name: u for u in db.query(orm.User).options(lazyload("*"))
                 .filter(orm.User.name.in_(names[start:start + CHUNK]))}
        spawners = {(s.user_id, s.name): s for s in db.query(orm.Spawner)
                    .options(lazyload("*"))
                    .filter(orm.Spawner.user_id.in_([u.id for u in users.values()]))}
        for name, user in users.items():
            for server, when in by_user[name]:
                spawner = spawners.get((user.id, server))
                if spawner is None:
                    continue
                user.last_activity = max(user.last_activity or when, when)
                spawner.last_activity = max(spawner.last_activity or when, when)


async def update_last_activity(self: Any) -> None:
    """JupyterHub.update_last_activity, batched (module docstring)."""
    routes = await self.proxy.get_all_routes()
    activity = route_activity(routes)
    try:
        apply_activity(self.db, activity)
        self.db.commit()
    except SQLAlchemyError:
        self.log.exception("Rolling back session due to database error")
        self.db.rollback()
        return
    await self.proxy.check_routes(self.users, self._service_map, routes)


def apply() -> None:
    """Install the batched update on the hub's application class (idempotent)."""
    JupyterHub.update_last_activity = update_last_activity  # type: ignore[method-assign]
