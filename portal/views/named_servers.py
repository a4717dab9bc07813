"""Owns the portal's routes for a user's named servers: the list of cards with the form that
adds one, each card and its actions (`/hub/portal/users/<user>/servers/<server>/...`), and
deleting a stopped one. The default server keeps its own routes (server.py)."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..compat.scopes import START_SERVERS, needs_action_scope
from ..operations.action_names import ServerAction
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser
from ..servers.actions import act
from ..servers.named import add_and_start, delete_stopped, maximum_of
from ..servers.view import server_view, server_views
from .base import PortalHandler, portal_authenticated
from .server import RestartConfirmHandler, StartLogHandler


class ServersRendering(PortalHandler):
    async def render_servers(self, user: HubUser, notice: str = "", added: str = "") -> None:
        """Every card of the user's servers and the form adding one (the portal page's part);
        `added`: the server just added, whose notice goes once it has started."""
        html = await self.render_fragment(
            "partials/servers.html", views=await server_views(user, self.runtime), target=user,
            owner=user.name == self.current_user.name, notice=notice, added=added,
            maximum=await maximum_of(user, self.runtime))
        self.finish(html)

    async def render_named_card(self, user: HubUser, server: str) -> None:
        html = await self.render_fragment(
            "partials/server_card.html", view=await server_view(user, self.runtime, server),
            target=user, owner=user.name == self.current_user.name)
        self.finish(html)


class ServersHandler(ServersRendering):
    """GET: the cards and the form; POST name (+ environment): add a server and start it."""

    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        await self.render_servers(self.target_user(user_name))

    @portal_authenticated
    @needs_scope(START_SERVERS)
    async def post(self, user_name: str) -> None:
        user = self.target_user(user_name)
        name = self.get_body_argument("name", "").strip()
        chosen = self.get_body_argument("environment", "")
        options = {"environment": chosen} if chosen else None
        await add_and_start(user, name, self.runtime, self.hub_actions(options, server=name))
        await self.render_servers(user, f"Server {name} added; it is starting.", name)


class NamedServerCardHandler(ServersRendering):
    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str, server_name: str) -> None:
        await self.render_named_card(*self.target_server(user_name, server_name))


class NamedRestartConfirmHandler(RestartConfirmHandler):
    """The restart's confirmation for a named server (the default one's dialog, its card)."""

    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str, server_name: str) -> None:
        await self.render_dialog(*self.target_server(user_name, server_name))


class NamedStartLogHandler(StartLogHandler):
    """A named server's start log (the default one's panel, its card)."""

    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str, server_name: str) -> None:
        await self.render_log(*self.target_server(user_name, server_name))


class NamedServerActionHandler(ServersRendering):
    """POST start | stop | restart | recreate | update of a named server: its fresh card."""

    @portal_authenticated
    async def post(self, user_name: str, server_name: str, segment: str) -> None:
        await self.perform(user_name, segment, server_name)

    @needs_action_scope
    async def perform(self, user_name: str, action: ServerAction, server_name: str) -> None:
        user, server = self.target_server(user_name, server_name)
        chosen = self.get_body_argument("environment", "") if action.takes_user_options else ""
        options = {"environment": chosen} if chosen else None
        await act(action, user, self.runtime, self.hub_actions(options, server=server))
        await self.render_named_card(user, server)


class NamedServerKeepRunningHandler(ServersRendering):
    """Postpone a named server's idle stop (up to the ceiling): its fresh card."""

    @portal_authenticated
    @needs_scope("servers")
    async def post(self, user_name: str, server_name: str) -> None:
        user, server = self.target_server(user_name, server_name)
        await self.runtime.culler.keep_running(user, self.actor_name, server)
        await self.render_named_card(user, server)


class NamedServerDeleteHandler(ServersRendering):
    """POST confirm=yes: delete a stopped named server and its own volumes (home, cache and the
    other servers' are kept); answers with the remaining cards."""

    @portal_authenticated
    @needs_scope("delete:servers")
    async def post(self, user_name: str, server_name: str) -> None:
        user, server = self.target_server(user_name, server_name)
        if self.get_body_argument("confirm", "") != "yes":
            raise ActionRefused(f"Confirm deleting {server}: its workspace is deleted too.", 400)
        await delete_stopped(user, server, self.runtime, self.db, self.actor_name)
        await self.render_servers(user, f"Server {server} deleted with its own volumes.")


routes = [
    (r"/portal/users/([^/]+)/servers", ServersHandler),
    (r"/portal/users/([^/]+)/servers/([^/]+)/card", NamedServerCardHandler),
    (r"/portal/users/([^/]+)/servers/([^/]+)/delete", NamedServerDeleteHandler),
    (r"/portal/users/([^/]+)/servers/([^/]+)/restart-confirm", NamedRestartConfirmHandler),
    (r"/portal/users/([^/]+)/servers/([^/]+)/log", NamedStartLogHandler),
    (r"/portal/users/([^/]+)/servers/([^/]+)/keep-running", NamedServerKeepRunningHandler),
    (rf"/portal/users/([^/]+)/servers/([^/]+)/{ServerAction.route_group()}",
     NamedServerActionHandler),
]
