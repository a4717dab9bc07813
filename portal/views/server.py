"""Owns the portal home page and the live server card with start / stop / restart."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..compat.scopes import needs_action_scope
from ..operations.action_names import ServerAction
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser
from ..servers.actions import act
from ..servers.named import maximum_of
from ..servers.view import server_view, server_views, start_log
from .base import PortalHandler, portal_authenticated


class CardRendering(PortalHandler):
    async def render_card(self, user: HubUser) -> None:
        view = await server_view(user, self.runtime)
        html = await self.render_fragment(
            "partials/server_card.html", view=view, target=user,
            owner=user.name == self.current_user.name,
        )
        self.finish(html)


class PortalPageHandler(PortalHandler):
    """`/hub/portal`: where users land after signing in."""

    @portal_authenticated
    async def get(self) -> None:
        user = self.current_user
        if not hasattr(user, "spawner"):  # a service token has no server of its own
            raise ActionRefused("The portal page is for users; services use the JSON API.", 400)
        html = await self.render_fragment(
            "pages/portal.html", views=await server_views(user, self.runtime), target=user,
            owner=True, maximum=await maximum_of(user, self.runtime))
        self.finish(html)


class ServerCardHandler(CardRendering):
    """The card fragment; it polls itself while the state is changing."""

    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        await self.render_card(self.target_user(user_name))


class ServerActionHandler(CardRendering):
    """POST start | stop | restart | recreate, answering with the fresh card."""

    @portal_authenticated
    @needs_action_scope
    async def post(self, user_name: str, action: ServerAction) -> None:
        user = self.target_user(user_name)
        # Start and re-create (a switch) take the card's choice of environment, if it offers one.
        chosen = self.get_body_argument("environment", "") if action.takes_user_options else ""
        options = {"environment": chosen} if chosen else None
        await act(action, user, self.runtime, self.hub_actions(options))
        await self.render_card(user)


class KeepRunningHandler(CardRendering):
    """Postpone the idle stop (up to the ceiling), answering with the fresh card."""

    @portal_authenticated
    @needs_scope("servers")
    async def post(self, user_name: str) -> None:
        user = self.target_user(user_name)
        await self.runtime.culler.keep_running(user, self.actor_name)
        await self.render_card(user)


class RestartConfirmHandler(PortalHandler):
    """The confirmation dialog: what a restart keeps and what it loses."""

    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        await self.render_dialog(self.target_user(user_name))

    async def render_dialog(self, user: HubUser, server: str = "") -> None:
        html = await self.render_fragment(
            "partials/restart_confirm.html", target=user, server=server,
            owner=user.name == self.current_user.name,
        )
        self.finish(html)


class StartLogHandler(PortalHandler):
    """The last lines of the lab's output (owner and admins, like the card)."""

    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        await self.render_log(self.target_user(user_name))

    async def render_log(self, user: HubUser, server: str = "") -> None:
        source, text = await start_log(user, self.runtime, server)
        self.finish(await self.render_fragment("partials/start_log.html", source=source,
                                               text=text))


routes = [
    (r"/portal/users/([^/]+)/log", StartLogHandler),
    (r"/portal/users/([^/]+)/restart-confirm", RestartConfirmHandler),
    (r"/portal/?", PortalPageHandler),
    (r"/portal/users/([^/]+)/card", ServerCardHandler),
    (rf"/portal/users/([^/]+)/{ServerAction.route_group()}", ServerActionHandler),
    (r"/portal/users/([^/]+)/keep-running", KeepRunningHandler),
]
