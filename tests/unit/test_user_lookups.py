"""Users looked up without their relationships (both JupyterHub lines): JupyterHub's own
`init_users` with portal/compat/users_init.py (every user still reaches the authenticator) and
the cookie lookup with portal/compat/cookie_lookup.py (checked in the database, one query)."""

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


def test_a_user_found_by_cookie_comes_from_memory_without_reloading_relationships():
    from portal.compat.cookie_lookup import watch

    db = orm.new_session_factory("sqlite:///:memory:")()
    group = orm.Group(name="class")
    db.add_all([orm.User(name="ann", groups=[group]), orm.User(name="bo")])
    db.commit()
    watch(db)
    watch(db)  # once only
    ann = orm.User.find(db, "ann")
    assert [g.name for g in ann.groups] == ["class"]
    statements: list[str] = []
    event.listen(db.get_bind(), "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement))

    def by_cookie(cookie_id: str) -> orm.User | None:  # JupyterHub's own lookup
        return db.query(orm.User).filter(orm.User.cookie_id == cookie_id).first()

    assert by_cookie(ann.cookie_id) is ann
    assert len([s for s in statements if s != "SELECT 1"]) == 1  # the cookie, checked in the db
    assert by_cookie("forged") is None
    bo = by_cookie(orm.User.find(db, "bo").cookie_id)
    assert bo.name == "bo" and bo.groups == []  # not held: its relationships load when read
    statements.clear()
    assert orm.User.find(db, "ann").groups[0].name == "class"  # other lookups are unchanged
    assert any("user_group_map" in s for s in statements)
