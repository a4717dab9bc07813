"""Owns loading the running servers' users in a few queries before JupyterHub checks them at
start.

JupyterHub's `init_spawners` reaches each running server's user through a lazy load: one query
per server, then the selectin loads of that user's groups, roles and shares. With 2,000 running
servers that was 1,100 of the 1,700 py-spy samples of a 63-93 s start (benchmarks/hub_scale.py).
`apply()` wraps it: the users of every running server are loaded first, 500 at a time with
their relationships, and kept referenced while JupyterHub's own checks run (the session's
identity map holds its objects weakly), so each lazy load is found in memory. Delete this module
once JupyterHub loads them in bulk itself.
"""

from __future__ import annotations

from typing import Any

from jupyterhub import orm
from jupyterhub.app import JupyterHub
from sqlalchemy.orm import selectinload

_MARK = "_dshub_preloads_users"


def running_users(db: Any) -> list[Any]:
    """Every user with a running server, their servers and relationships loaded."""
    return (db.query(orm.User).join(orm.Spawner, orm.Spawner.user_id == orm.User.id)
            .filter(orm.Spawner.server_id.isnot(None))
            .options(selectinload(orm.User._orm_spawners)).all())


def apply() -> None:
    """Wrap JupyterHub.init_spawners (idempotent)."""
    checks = JupyterHub.init_spawners
    if getattr(checks, _MARK, False):
        return

    async def init_spawners(self: Any) -> Any:
        held = running_users(self.db)  # referenced until JupyterHub's checks have run
        try:
            return await checks(self)
        finally:
            del held

    setattr(init_spawners, _MARK, True)
    JupyterHub.init_spawners = init_spawners  # type: ignore[method-assign]
