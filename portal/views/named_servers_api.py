"""Owns the JSON API's routes for a user's servers by name (`/hub/portal/api/users/<user>/
servers/...`): the list with each one's state and environment, one server, its actions (a start
of a new name adds it, checked like the portal's form) and deleting a stopped one. The default
server keeps its own routes (api.py); the scopes are the portal pages' (named_servers.py)."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..compat.scopes import needs_action_scope
from ..operations.action_names import ServerAction
from ..platform.errors import ActionRefused
from ..servers.named import delete_stopped, maximum_of
from ..servers.view import server_views
from .api import PortalAPIHandler, server_json


class ServersAPI(PortalAPIHandler):
    """GET: every server of the user, the default one first, and how many named ones they may
    have."""

    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        user = self.target_user(user_name)
        views = await server_views(user, self.runtime)
        self.write({"user": user.name, "named_servers_max": await maximum_of(user, self.runtime),
                    "servers": [server_json(view) for view in views]})


class NamedServerAPI(PortalAPIHandler):
    """GET: one named server's state; DELETE {"confirm": true}: delete it while stopped, with
    its own volumes (home, cache and the other servers' are kept)."""

    @needs_scope("read:servers")
    async def get(self, user_name: str, server_name: str) -> None:
        user, server = self.target_server(user_name, server_name)
        await self.write_server(user, server=server)

    @needs_scope("delete:servers")
    async def delete(self, user_name: str, server_name: str) -> None:
        user, server = self.target_server(user_name, server_name)
        if self.json_body().get("confirm") is not True:
            raise ActionRefused(f'Set "confirm": true to delete {server}: its workspace volume '
                                "is deleted too.", 400)
        await delete_stopped(user, server, self.runtime, self.db, self.actor_name)
        self.set_status(204)


class NamedServerActionAPI(PortalAPIHandler):
    """POST start | stop | restart | recreate | update of a named server (a switch: recreate
    with an environment); a start of a name the user has not got yet adds that server."""

    async def post(self, user_name: str, server_name: str, segment: str) -> None:
        await self.perform(user_name, segment, server_name)

    @needs_action_scope
    async def perform(self, user_name: str, action: ServerAction, server_name: str) -> None:
        await self.run_action(self.target_user(user_name), action, server_name)


routes = [
    (r"/portal/api/users/([^/]+)/servers", ServersAPI),
    (r"/portal/api/users/([^/]+)/servers/([^/]+)", NamedServerAPI),
    (rf"/portal/api/users/([^/]+)/servers/([^/]+)/{ServerAction.route_group()}",
     NamedServerActionAPI),
]
