"""Owns the built-in Docker-access groups: kept in existence, membership changed and audited.

`docker-sock` mounts the host's Docker socket into the member's lab; `docker-privileged` runs it
privileged. The spawner enforces both at every start (portal/lab/spawner.py); this module keeps the
groups in existence and changes membership on an admin's behalf.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from jupyterhub import orm
from sqlalchemy import event, select

from ..audit.log import SYSTEM_ACTOR, AuditLog, EventKind
from ..platform.errors import ActionRefused
from ..platform.hub_queries import group_members
from ..platform.logs import portal_logger
from ..store.database import PortalStore
from .names import BUILTIN_GROUPS, PRIVILEGED_GROUP, SOCK_GROUP

log = portal_logger()

GROUP_WARNINGS = {
    SOCK_GROUP: "Members get the host's Docker socket in their lab: they can start containers, "
                "read other users' volumes and become root on the host.",
    PRIVILEGED_GROUP: "Members' labs run privileged: full access to the host's devices and "
                      "kernel features; a lab process can take over the host.",
}
assert tuple(GROUP_WARNINGS) == BUILTIN_GROUPS  # a warning for each, in the same order


@dataclass
class GroupView:
    name: str
    warning: str
    members: list[str]


class GroupGuard:
    """Re-creates a deleted built-in group with the members it last had.

    Every `interval` seconds it asks whether the groups exist (an indexed lookup of two names).
    Their members it reads from the database only when a group's row is new to it, after a user
    was deleted in this process, and every `reread` seconds: with 50,000 accounts that read is
    a scan of the membership table (SQLite has no index on its `group_id`; 70-130 ms on the
    loop), which every 2 s was a sixth of an idle hub's CPU. Between reads, `watch` keeps the
    members exact for every change made in the hub; `reread` bounds how stale they may be after
    a change made outside it (straight in the database).
    """

    def __init__(self, store: PortalStore, audit: AuditLog, interval: float = 2.0,
                 reread: float = 60.0) -> None:
        self.store = store
        self.audit = audit
        self.interval = interval
        self.reread = reread
        self._members: dict[str, set[str]] = {}
        self._read: dict[str, int] = {}  # group name -> the row whose members were read
        self._read_at = float("-inf")

    def check(self, db: Any) -> list[str]:
        """Make sure every built-in group exists; returns the names it had to re-create."""
        present = dict(db.execute(select(orm.Group.name, orm.Group.id)
                                  .where(orm.Group.name.in_(BUILTIN_GROUPS))).all())
        if present != self._read or time.monotonic() - self._read_at > self.reread:
            for name, members in group_members(db, present).items():
                self._members[name] = set(members)
            self._read, self._read_at = present, time.monotonic()
        recreated = []
        for name in BUILTIN_GROUPS:
            if name in present:
                continue
            group = orm.Group.find(db, name)
            if group is None:
                group = orm.Group(name=name)
                db.add(group)
                for username in sorted(self._members.get(name, ())):
                    user = orm.User.find(db, username)
                    if user is not None:
                        group.users.append(user)
                db.commit()
                recreated.append(name)
                log.warning(
                    "Built-in group %s was deleted; re-created it with members %s",
                    name, sorted(u.name for u in group.users) or "none",
                )
            self._members[name] = {u.name for u in group.users}
        return recreated

    def watch(self, db: Any) -> None:
        """Keep the members it would restore exact between two reads of the database.

        Every committed membership change of a built-in group, made in this process by any code
        (portal, hub REST API, admin page), updates the snapshot at commit; a deletion of the
        group in this process snapshots its members just before the rows go. Only a deletion
        from outside the hub (another process) relies on the snapshot, which then is exact
        unless the members, too, were changed outside the hub in the last `reread` seconds.
        """
        pending: dict[str, set[str]] = {}

        def builtin(objects: Any) -> list[Any]:
            return [o for o in objects if isinstance(o, orm.Group) and o.name in BUILTIN_GROUPS]

        @event.listens_for(db, "before_flush")
        def before_flush(session: Any, context: Any, instances: Any) -> None:
            for group in builtin(session.deleted):
                self._members[group.name] = {u.name for u in group.users}
            if any(isinstance(o, orm.User) for o in session.deleted):
                self._read_at = float("-inf")  # its membership rows go without an event here

        @event.listens_for(db, "after_flush")
        def after_flush(session: Any, context: Any) -> None:
            for group in builtin([*session.dirty, *session.new]):
                pending[group.name] = {u.name for u in group.users}

        @event.listens_for(db, "after_commit")
        def after_commit(session: Any) -> None:
            self._members.update(pending)
            pending.clear()

        @event.listens_for(db, "after_rollback")
        def after_rollback(session: Any) -> None:
            pending.clear()

    async def run(self, app: Any) -> None:
        self.watch(app.db)
        while True:
            try:
                await self.check_and_record(app.db)
            except Exception:  # a locked database must not end the guard for good
                log.exception("Checking the built-in groups failed; trying again")
                app.db.rollback()
            await asyncio.sleep(self.interval)

    async def check_and_record(self, db: Any) -> None:
        """`check`, plus an audit entry for each group it had to re-create."""
        for name in self.check(db):
            await self.store.add_membership_change(SYSTEM_ACTOR, name, "", "group re-created")
            await self.audit.record(SYSTEM_ACTOR, EventKind.GROUP_CHANGE, name,
                                    "built-in group re-created")

    def remember(self, group: str, members: set[str]) -> None:
        self._members[group] = set(members)


async def group_views(db: Any, guard: GroupGuard) -> list[GroupView]:
    await guard.check_and_record(db)
    views = []
    for name in BUILTIN_GROUPS:
        group = orm.Group.find(db, name)
        members = sorted(u.name for u in group.users) if group else []
        views.append(GroupView(name, GROUP_WARNINGS[name], members))
    return views


async def change_membership(db: Any, guard: GroupGuard, actor: str, group_name: str,
                            username: str, add: bool) -> bool:
    """Add or remove one member of a Docker-access group; False if nothing changed."""
    if group_name not in BUILTIN_GROUPS:
        raise ActionRefused(f"{group_name!r} is not a Docker-access group.", 404)
    name = username.strip()
    outcome = (await change_memberships(db, guard, actor, group_name, [name], add))[name]
    if outcome == NO_SUCH_USER:
        raise ActionRefused(f"There is no user named {name[:80]!r}.", 404)
    return outcome == CHANGED


CHANGED, UNCHANGED, NO_SUCH_USER = "changed", "already so", "no such user"


def _users_named(db: Any, names: list[str]) -> dict[str, Any]:
    """The hub users of these names, a few queries for many names (no query, and so no
    autoflush of the changes made so far, per name: 1,000 names took seconds of the loop)."""
    found: dict[str, Any] = {}
    unique = list(dict.fromkeys(names))
    with db.no_autoflush:
        for first in range(0, len(unique), 500):
            chunk = unique[first:first + 500]
            found.update((u.name, u) for u in db.query(orm.User).filter(orm.User.name.in_(chunk)))
    return found


async def change_memberships(db: Any, guard: GroupGuard, actor: str, group_name: str,
                             usernames: list[str], add: bool) -> dict[str, str]:
    """Add or remove many members of any group in one commit; each name -> what happened."""
    builtin = group_name in BUILTIN_GROUPS
    if builtin:
        await guard.check_and_record(db)
    group = orm.Group.find(db, group_name)
    if group is None:
        raise ActionRefused(f"There is no group named {group_name[:80]!r}.", 404)
    members = set(group.users)
    outcome: dict[str, str] = {}
    changed = []
    found = _users_named(db, usernames)
    for name in usernames:
        user = found.get(name)
        if user is None:
            outcome[name] = NO_SUCH_USER
        elif (user in members) == add:
            outcome[name] = UNCHANGED
        else:
            with db.no_autoflush:
                (group.users.append if add else group.users.remove)(user)
            (members.add if add else members.discard)(user)
            outcome[name] = CHANGED
            changed.append(user.name)
    if not changed:
        return outcome
    db.commit()  # one commit for the whole selection
    action = "added" if add else "removed"
    detail = f"{action} {'to' if add else 'from'} {group_name}"
    log.info("%s %s: %s", actor, detail, ", ".join(changed))
    if builtin:
        guard.remember(group_name, {u.name for u in group.users})
    for name in changed:
        if builtin:
            await guard.store.add_membership_change(actor, group_name, name, action)
        await guard.audit.record(actor, EventKind.GROUP_CHANGE, name, detail)
    return outcome
