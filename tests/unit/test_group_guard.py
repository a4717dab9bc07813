"""The Docker-access groups' guard (portal/access/groups.py): it asks whether the groups exist
on every check, reads their members only when it has to, and still restores the members a
deleted group had."""

from __future__ import annotations

from typing import Any

from jupyterhub import orm
from sqlalchemy import event

from portal.access.groups import GroupGuard
from portal.access.names import BUILTIN_GROUPS, SOCK_GROUP


def hub_session() -> Any:
    db = orm.new_session_factory("sqlite:///:memory:")()
    db.add_all([orm.User(name=n) for n in ("ann", "bo", "cy")]
               + [orm.Group(name=g) for g in BUILTIN_GROUPS])
    db.commit()
    return db


class Statements:
    """The SQL statements run on `db`'s engine while counted."""

    def __init__(self, db: Any) -> None:
        self.seen: list[str] = []
        event.listen(db.get_bind(), "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: self.seen.append(statement))

    def membership_reads(self) -> int:
        """The guard's reads of every member (hub_queries.group_members' outer join)."""
        return sum("LEFT OUTER JOIN (user_group_map" in s for s in self.seen)


def guarded(db: Any, reread: float = 60.0) -> GroupGuard:
    guard = GroupGuard(store=None, audit=None, reread=reread)  # type: ignore[arg-type]
    guard.watch(db)
    guard.check(db)
    return guard


def delete_outside_the_session(db: Any, name: str) -> None:
    db.execute(orm.Group.__table__.delete().where(orm.Group.name == name))
    db.commit()
    db.expire_all()


def test_members_are_read_once_then_only_existence_is_checked():
    db = hub_session()
    guard = guarded(db)
    statements = Statements(db)
    for _ in range(5):
        assert guard.check(db) == []
    assert statements.membership_reads() == 0 and len(statements.seen) == 5


def test_members_changed_in_the_hub_are_restored_without_a_read():
    db = hub_session()
    guard = guarded(db)
    ann, bo = orm.User.find(db, "ann"), orm.User.find(db, "bo")
    sock = orm.Group.find(db, SOCK_GROUP)  # held: the session holds its objects weakly
    sock.users.append(ann)
    bo.groups = [sock]  # from the user's side, as JupyterHub syncs groups
    db.commit()
    statements = Statements(db)
    delete_outside_the_session(db, SOCK_GROUP)
    assert guard.check(db) == [SOCK_GROUP]
    assert {u.name for u in orm.Group.find(db, SOCK_GROUP).users} == {"ann", "bo"}
    assert statements.membership_reads() == 1  # the rows changed: one read, of the rest


def test_a_change_made_outside_the_hub_is_read_after_reread_seconds():
    db = hub_session()
    guard = guarded(db, reread=0.0)
    group = orm.Group.__table__
    sock = db.execute(group.select().where(group.c.name == SOCK_GROUP)).one().id
    cy = orm.User.find(db, "cy").id
    db.execute(orm.user_group_map.insert().values(user_id=cy, group_id=sock))
    db.commit()
    guard.check(db)  # reread 0: read on every check
    delete_outside_the_session(db, SOCK_GROUP)
    guard.check(db)
    assert [u.name for u in orm.Group.find(db, SOCK_GROUP).users] == ["cy"]


def test_a_user_deleted_in_the_hub_makes_the_next_check_read_the_members():
    db = hub_session()
    guard = guarded(db)
    sock = orm.Group.find(db, SOCK_GROUP)
    sock.users.append(orm.User.find(db, "ann"))
    db.commit()
    db.delete(orm.User.find(db, "ann"))
    db.commit()
    statements = Statements(db)
    guard.check(db)
    assert statements.membership_reads() == 1
    assert guard._members[SOCK_GROUP] == set()
