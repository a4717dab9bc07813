"""Owns a user's named servers as the portal's paths see them: adding one is checked against
the name rule and the user's maximum (lab/server_names.py) before the hub creates anything."""

from __future__ import annotations

from ..lab.server_names import check_creation, named_oldest_first
from ..platform.upstream import HubUser
from ..runtime import Runtime


async def maximum_of(user: HubUser, runtime: Runtime) -> int:
    """How many named servers `user` may have (their groups' highest, else the default)."""
    return await runtime.limits.servers_for(g.name for g in user.groups)


async def check_new_server(user: HubUser, server_name: str, runtime: Runtime) -> None:
    """Refuse a bad name (400) or a server past the maximum (409); an existing one passes."""
    if server_name:
        check_creation(user.name, named_oldest_first(user), server_name,
                       await maximum_of(user, runtime))
