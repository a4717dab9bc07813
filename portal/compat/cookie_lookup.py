"""Owns the cost of finding a request's user from its session cookie: one query, not six.

JupyterHub's cookie authentication (`BaseHandler._user_for_cookie`, both lines) finds the user
with `db.query(User).filter(User.cookie_id == ...).first()` on every request. `User.roles`,
`groups` and `shared_with_me` are `selectin` relationships, and SQLAlchemy runs their loads
again for a user already in memory: six statements per page (benchmarks/hub_scale.py: 8.8 ms
of the loop per request with 50,000 users, about half of a user table's request). `apply()`
adds a `do_orm_execute` hook to the hub's session: a query of users by `cookie_id` leaves their
relationships lazy. The cookie is still checked against the database on every request (a
rotated or deleted `cookie_id` is refused as before); a user the hub holds comes from memory
with its relationships as loaded, another one loads them when they are read (the scopes).
Delete this module once JupyterHub's lookup skips the reload itself.
"""

from __future__ import annotations

from typing import Any

from jupyterhub import orm
from jupyterhub.app import JupyterHub
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, lazyload
from sqlalchemy.sql import ColumnElement, visitors

_MARK = "_dshub_cookie_lookup"
_COOKIE_ID = orm.User.__table__.c.cookie_id


def by_cookie_id(state: ORMExecuteState) -> bool:
    """True for a SELECT of users whose condition names `users.cookie_id`."""
    if not state.is_select or state.is_relationship_load:
        return False
    where = getattr(state.statement, "whereclause", None)
    if where is None or not any(m.class_ is orm.User for m in state.all_mappers):
        return False
    # The ORM hands the column over annotated (a copy): compared by lineage, not identity.
    return any(isinstance(node, ColumnElement) and node.shares_lineage(_COOKIE_ID)
               for node in visitors.iterate(where))


def leave_relationships_lazy(state: ORMExecuteState) -> None:
    """The `do_orm_execute` hook."""
    if by_cookie_id(state):
        state.statement = state.statement.options(lazyload("*"))


def watch(db: Any) -> None:
    """Install the hook on a hub session (idempotent)."""
    if not event.contains(db, "do_orm_execute", leave_relationships_lazy):
        event.listen(db, "do_orm_execute", leave_relationships_lazy)


def apply() -> None:
    """Install the hook on the hub's session as soon as JupyterHub opens it (idempotent)."""
    open_db = JupyterHub.init_db
    if getattr(open_db, _MARK, False):
        return

    def init_db(self: Any) -> Any:
        result = open_db(self)
        watch(self.db)
        return result

    setattr(init_db, _MARK, True)
    JupyterHub.init_db = init_db  # type: ignore[method-assign]
