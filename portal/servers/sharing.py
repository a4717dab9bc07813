"""Owns sharing a user's server: JupyterHub's own shares (`orm.Share`), granted to a user or a
group, listed and revoked, each change once in the event log; and the servers shared with someone.

There is no store of the portal's here: a share is the hub's row, so the hub's REST API
(`/hub/api/shares/...`), its scopes (`access:servers!server=owner/name` for whoever it is shared
with) and its cleanup (a deleted user, group or server takes its shares along) all apply. Who may
share is a scope (`shares!user=<owner>`, views check it); a server with host power needs sudo
mode first (the gate, portal/access/host_power.py), before any of this runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jupyterhub import orm
from sqlalchemy import or_
from sqlalchemy.orm import Session

from ..audit.log import AuditLog, EventKind
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser

# What every user holds so that sharing works, in the portal and the hub's REST API: sharing
# their own servers, and finding whom to share with by name (the hub asks for both).
SHARING_SCOPES = ("shares!user", "read:users:name", "read:groups:name")
KINDS = ("user", "group")  # whom a server is shared with, as JupyterHub names them
NAME_IN_WORDS = 80  # a name quoted back in a refusal is cut here


@dataclass(frozen=True)
class ShareEntry:
    """One share of a server: with whom, since when."""

    kind: str  # "user" or "group"
    name: str
    created: datetime | None

    @property
    def words(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class SharedServer:
    """A server someone else shared with this user (directly, or with one of their groups)."""

    owner: str
    server: str  # "" for the owner's default server
    url: str
    ready: bool
    via_group: str = ""  # the group it was shared with; "": with the user


def _entry(share: orm.Share) -> ShareEntry:
    if share.group is not None:
        return ShareEntry("group", share.group.name, share.created_at)
    return ShareEntry("user", share.user.name, share.created_at)


def _server_words(owner: str, server_name: str) -> str:
    return f"{owner}/{server_name}" if server_name else f"{owner}'s server"


def _shares(db: Session, spawner: orm.Spawner) -> list[orm.Share]:
    """The server's shares as the database has them now (the spawner's relationship keeps a
    share deleted in this session until it is expired)."""
    query = db.query(orm.Share).filter(orm.Share.spawner_id == spawner.id)
    return [share for share in query if not share.expired]


def _orm_spawner(owner: HubUser, server_name: str) -> orm.Spawner:
    """The hub's record of the server a share names (the default one exists once asked for)."""
    if not server_name:
        return owner.spawner.orm_spawner
    found = owner.orm_user.orm_spawners.get(server_name)  # type: ignore[attr-defined]
    if found is None:
        raise ActionRefused(f"{owner.name} has no server named "
                            f"{server_name[:NAME_IN_WORDS]!r}.", 404)
    return found


def shares_of(db: Session, owner: HubUser, server_name: str = "") -> list[ShareEntry]:
    """Whom this server is shared with, users first, each by name."""
    entries = [_entry(share) for share in _shares(db, _orm_spawner(owner, server_name))]
    return sorted(entries, key=lambda e: (KINDS.index(e.kind), e.name))


def _recipient(db: Session, owner: HubUser, kind: str, name: str) -> orm.User | orm.Group:
    """The user or group a share names, or the refusal saying what is wrong with the input."""
    if kind not in KINDS:
        raise ActionRefused("Choose whether to share with a user or with a group.", 400)
    name = name.strip()
    if not name:
        raise ActionRefused(f"Name the {kind} to share with.", 400)
    quoted = repr(name[:NAME_IN_WORDS])
    if kind == "user":
        refuse_owner(owner.name, name)
        user = orm.User.find(db, name)
        if user is None:
            raise ActionRefused(f"There is no user named {quoted}.", 400)
        return user
    group = orm.Group.find(db, name)
    if group is None:
        raise ActionRefused(f"There is no group named {quoted}.", 400)
    return group


def refuse_owner(owner_name: str, name: object) -> None:
    """A server is its owner's already: sharing it with them is a mistake, said so."""
    if name == owner_name:
        raise ActionRefused(f"{owner_name[:NAME_IN_WORDS]!r} owns this server already: share it "
                            "with someone else.", 400)


def share_keys(db: Session, spawner: orm.Spawner | None) -> set[tuple[str, str]]:
    """(kind, name) of every share of the server (none for no server)."""
    return {(e.kind, e.name) for e in map(_entry, _shares(db, spawner))} if spawner else set()


async def record_changes(audit: AuditLog, actor: str, owner: str, server_name: str,
                         before: set[tuple[str, str]], after: set[tuple[str, str]],
                         how: str) -> None:
    """One event per share made or ended by a request the hub's own handler served."""
    server = _server_words(owner, server_name)
    for kind, name in sorted(after - before):
        await audit.record(actor, EventKind.SHARE, owner,
                           f"{server} shared with {kind} {name} ({how})")
    for kind, name in sorted(before - after):
        await audit.record(actor, EventKind.SHARE_REVOKED, owner,
                           f"share of {server} with {kind} {name} revoked ({how})")


def _shares_server(spawner: orm.Spawner) -> frozenset[str]:
    """The one scope a share from the portal grants: opening that server, nothing else."""
    return frozenset({f"access:servers!server={spawner.user.name}/{spawner.name}"})


async def grant(db: Session, audit: AuditLog, actor: str, owner: HubUser, kind: str, name: str,
                server_name: str = "") -> tuple[ShareEntry, bool]:
    """Share the server with a user or group: (the share, whether anything changed)."""
    recipient = _recipient(db, owner, kind, name)
    spawner = _orm_spawner(owner, server_name)
    before = orm.Share.find(db, spawner, share_with=recipient)
    scopes = _shares_server(spawner)
    if before is not None and scopes <= set(before.scopes):
        return _entry(before), False
    share = orm.Share.grant(db, spawner, recipient, scopes=scopes)  # commits
    entry = _entry(share)
    await audit.record(actor, EventKind.SHARE, owner.name,
                       f"{_server_words(owner.name, server_name)} shared with {entry.words}")
    return entry, True


async def revoke(db: Session, audit: AuditLog, actor: str, owner: HubUser, kind: str, name: str,
                 server_name: str = "") -> ShareEntry:
    """End one share of the server (every scope it granted)."""
    if kind not in KINDS:
        raise ActionRefused("Choose whether to revoke a user's share or a group's.", 400)
    spawner = _orm_spawner(owner, server_name)
    name = name.strip()
    share = _find(db, spawner, kind, name)
    if share is None:
        raise ActionRefused(f"{_server_words(owner.name, server_name)} is not shared with {kind} "
                            f"{name[:NAME_IN_WORDS]!r}.", 404)
    entry = _entry(share)
    orm.Share.revoke(db, spawner, share.user or share.group)  # every scope; commits
    await audit.record(actor, EventKind.SHARE_REVOKED, owner.name,
                       f"share of {_server_words(owner.name, server_name)} with {entry.words} "
                       "revoked")
    return entry


def _find(db: Session, spawner: orm.Spawner, kind: str, name: str) -> orm.Share | None:
    for share in _shares(db, spawner):
        entry = _entry(share)
        if (entry.kind, entry.name) == (kind, name):
            return share
    return None


def shared_with(db: Session, user: HubUser,
                wrap: Callable[[orm.User], HubUser]) -> list[SharedServer]:
    """Servers shared with `user` or with one of their groups, by owner and server name.

    `wrap` turns the owner's ORM row into the hub's User (its URLs, its running servers).
    """
    group_ids = [group.id for group in user.groups]  # type: ignore[attr-defined]
    who = orm.Share.user_id == user.id
    query = db.query(orm.Share).filter(
        or_(who, orm.Share.group_id.in_(group_ids)) if group_ids else who)
    servers: dict[tuple[str, str], SharedServer] = {}
    for share in query:
        if share.expired or share.spawner is None or share.owner is None:
            continue
        key = (share.owner.name, share.spawner.name)
        via = share.group.name if share.group is not None else ""
        if key in servers and not servers[key].via_group:
            continue  # shared with the user directly: that is the one to show
        servers[key] = _shared_server(share, wrap(share.owner), via)
    return [servers[key] for key in sorted(servers)]


def _shared_server(share: orm.Share, owner: HubUser, via: str) -> SharedServer:
    name = share.spawner.name
    running = owner.spawners.get(name)  # a plain get: the hub's own lookup would make one
    ready = running.ready if running is not None else share.spawner.server is not None
    return SharedServer(owner=owner.name, server=name,
                        url=owner.server_url(name),  # type: ignore[attr-defined]
                        ready=ready, via_group=via)
