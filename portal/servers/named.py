"""Owns a user's named servers as the portal's paths see them (its pages and its JSON API):
adding one is checked against the name rule and the user's maximum (lab/server_names.py) before
the hub creates anything; an unknown one is a 404 with a sentence; deleting a stopped one."""

from __future__ import annotations

from typing import Any

from ..audit.log import EventKind, acting_as
from ..lab.server_names import check_creation, deleting_server, named_oldest_first
from ..operations.action_names import ServerAction
from ..operations.in_flight import server_key
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser, remove_server_record, server_record
from ..runtime import Runtime
from .actions import HubActions, act

NAME_IN_WORDS = 40  # a name quoted back in a refusal is cut here


async def maximum_of(user: HubUser, runtime: Runtime) -> int:
    """How many named servers `user` may have (their groups' highest, else the default)."""
    return await runtime.limits.servers_for(g.name for g in user.groups)


async def check_new_server(user: HubUser, server_name: str, runtime: Runtime) -> None:
    """Refuse a bad name (400) or a server past the maximum (409); an existing one passes."""
    if server_name:
        check_creation(user.name, named_oldest_first(user), server_name,
                       await maximum_of(user, runtime))


def existing_server(user: HubUser, server_name: str) -> str:
    """`server_name` if `user` has that named server, else a 404 saying so."""
    if not server_name or server_name not in user.orm_spawners:
        raise ActionRefused(f"{user.name} has no server named "
                            f"{server_name[:NAME_IN_WORDS]!r}.", 404)
    return server_name


async def add_and_start(user: HubUser, server_name: str, runtime: Runtime,
                        hub: HubActions) -> None:
    """Create the named server `hub.server` (checked: name, maximum, the environment chosen)
    and start it; one `server added` event, then the start's. A refusal creates nothing."""
    if not server_name:
        raise ActionRefused("Name the new server (e.g. gpu-2).", 400)
    if server_name in user.orm_spawners:
        raise ActionRefused(f"{user.name} already has a server named {server_name!r}.", 409)
    if hub.options is not None:  # bad input first: a 400 before the maximum's 409
        await runtime.environments.choose(hub.options, (g.name for g in user.groups))
    await check_new_server(user, server_name, runtime)
    server_record(user, server_name)
    await runtime.audit.record(hub.actor, EventKind.SERVER_ADDED, user.name,
                               f"server {server_name!r}")
    await act(ServerAction.START, user, runtime, hub)


async def delete_stopped(user: HubUser, server_name: str, runtime: Runtime, db: Any,
                         actor: str) -> None:
    """Delete a stopped named server and its own volumes (home, cache and the other servers'
    are kept), through the hub's own removal step: the spawner's hook removes its volumes and
    records the deletion (`server deleted`)."""
    server = existing_server(user, server_name)
    if user.spawners[server].active or runtime.operations.current(server_key(user.name, server)):
        raise ActionRefused(f"Stop {server} before deleting it.")
    deleting, acting = deleting_server.set(True), acting_as.set(actor)
    try:
        await remove_server_record(user, server, db)
    finally:
        deleting_server.reset(deleting)
        acting_as.reset(acting)
