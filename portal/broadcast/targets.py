"""Owns who a broadcast reaches: recipients -> each of their servers' URLs, or why there is none.

A user with named servers is one target per server that runs (default and named alike); a user
with none running is one target, the default server, saying why it was not reached."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jupyterhub import orm
from jupyterhub.utils import url_path_join

from ..platform.hub_queries import running_server_names, running_spawners
from ..platform.pacing import with_turns
from ..platform.upstream import HubUser, hub_spawning, hub_stopping
from .message import Recipients, refused
from .tokens import lab_path

INGEST_PATH = "jupyterlab-notifications-extension/ingest"
CHUNK = 100  # recipients resolved between two turns of the event loop
NOT_RUNNING = "not running"


@dataclass(frozen=True)
class Target:
    user: str
    url: str | None  # ingest URL; None when there is no running server
    reason: str = ""  # why there is no URL
    server: str = ""  # the named server ("": the default one)

    @property
    def lab(self) -> str:
        """The server's `user/server` path (its token's scope, portal/broadcast/tokens.py)."""
        return lab_path(self.user, self.server)


def target_of(user: HubUser, server: str = "") -> Target:
    """One of the user's servers (the default one unless named) as the hub (and its proxy)
    reach it, or why there is none."""
    spawner = user.spawners.get(server) if server else user.spawner
    if spawner is None:
        return Target(user.name, None, NOT_RUNNING, server)
    if hub_spawning(spawner):
        return Target(user.name, None, f"{NOT_RUNNING} (still starting)", server)
    if hub_stopping(spawner):
        return Target(user.name, None, f"{NOT_RUNNING} (stopping)", server)
    if not spawner.ready or spawner.server is None:
        return Target(user.name, None, NOT_RUNNING, server)
    return Target(user.name, url_path_join(spawner.server.url, INGEST_PATH), server=server)


async def resolve_targets(recipients: Recipients, db: Any,
                          users: Mapping[Any, HubUser]) -> list[Target]:
    """Recipients -> one target per server of each user with a server record (running or
    about to: default first, then named by name), or the default server saying why it was not
    reached; sorted by user name. Unknown names are refused.

    `users` is the hub's UserDict (`users[orm_user]` gives the hub's User with its spawner).
    Thousands of recipients take tens of milliseconds: the loop gets a turn every `CHUNK`.
    """
    if recipients.mode == "all":
        # Every user the hub has a running (or still starting) server record of.
        chosen = {s.user.name: users[s.user] for s in running_spawners(db)}
    elif recipients.mode == "users":
        found = {n: orm.User.find(db, n) for n in recipients.names}
        missing = [n for n, u in found.items() if u is None]
        if missing:
            raise refused(f"No such user: {', '.join(missing[:10])}.")
        chosen = {n: users[u] for n, u in found.items()}
    else:
        groups = {n: orm.Group.find(db, n) for n in recipients.names}
        missing = [n for n, g in groups.items() if g is None]
        if missing:
            raise refused(f"No such group: {', '.join(missing[:10])}.")
        chosen = {u.name: users[u] for g in groups.values() for u in g.users}
    servers = running_server_names(db, None if recipients.mode == "all" else chosen)
    return [target_of(chosen[name], server) async for name in with_turns(sorted(chosen), CHUNK)
            for server in servers.get(name) or [""]]
