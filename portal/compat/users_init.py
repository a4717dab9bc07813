"""Owns loading every user at start without their relationships.

JupyterHub's `init_users` walks all users (`db.query(orm.User)`) to hand each to
`Authenticator.add_user`; `User.roles`, `groups` and `shared_with_me` are `selectin`
relationships, so that walk also loads every role, group membership and share of every user: 300
queries more and hundreds of thousands of objects with 50,000 users
(benchmarks/hub_scale.py), for an `add_user` that reads the name. `apply()` wraps it: while it
runs, a query of users leaves their relationships lazy. Same semantics: a relationship an
authenticator reads is loaded when read. Delete this module once JupyterHub does this itself.
"""

from __future__ import annotations

from typing import Any

from jupyterhub import orm
from jupyterhub.app import JupyterHub
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, lazyload

_MARK = "_dshub_lazy_users"


def leave_relationships_lazy(state: ORMExecuteState) -> None:
    """A `do_orm_execute` hook: a SELECT of users loads none of their relationships."""
    if state.is_select and not state.is_relationship_load and any(
            mapper.class_ is orm.User for mapper in state.all_mappers):
        state.statement = state.statement.options(lazyload("*"))


def apply() -> None:
    """Wrap JupyterHub.init_users (idempotent)."""
    walk = JupyterHub.init_users
    if getattr(walk, _MARK, False):
        return

    async def init_users(self: Any) -> Any:
        event.listen(self.db, "do_orm_execute", leave_relationships_lazy)
        try:
            return await walk(self)
        finally:
            event.remove(self.db, "do_orm_execute", leave_relationships_lazy)

    setattr(init_users, _MARK, True)
    JupyterHub.init_users = init_users  # type: ignore[method-assign]
