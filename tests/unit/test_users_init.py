"""JupyterHub's own `init_users` with portal/compat/users_init.py applied: every user still
reaches the authenticator, none of their relationships is loaded for it (both lines)."""

from __future__ import annotations

import asyncio

from jupyterhub import orm
from jupyterhub.app import JupyterHub
from jupyterhub.auth import Authenticator
from sqlalchemy import event

from portal.compat import users_init

RELATIONSHIP_TABLES = ("user_role_map", "user_group_map", "shares")


def test_init_users_hands_every_user_over_without_loading_relationships():
    users_init.apply()
    factory = orm.new_session_factory("sqlite:///:memory:")
    db = factory()
    group = orm.Group(name="class")
    db.add(group)
    db.add_all([orm.User(name=f"u{i}", groups=[group]) for i in range(30)])
    db.commit()
    db.close()
    app = JupyterHub()
    app.db = factory()
    app.authenticator = Authenticator(allow_existing_users=True)
    statements: list[str] = []
    event.listen(app.db.get_bind(), "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement))
    asyncio.run(app.init_users())
    assert app.authenticator.allowed_users == {f"u{i}" for i in range(30)}
    assert [s for s in statements if any(t in s for t in RELATIONSHIP_TABLES)] == []
    # Afterwards the relationships load as JupyterHub declared them (the hook is gone).
    statements.clear()
    assert [g.name for g in orm.User.find(app.db, "u7").groups] == ["class"]
    assert any("user_group_map" in s for s in statements)


def test_apply_is_idempotent():
    users_init.apply()
    wrapped = JupyterHub.init_users
    users_init.apply()
    assert JupyterHub.init_users is wrapped
