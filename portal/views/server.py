"""The portal home page and the live server card with start / stop / restart."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope
from jupyterhub.user import User
from tornado import web

from .. import server_service as service
from ..compat.scopes import needs_action_scope
from .base import PortalHandler, portal_authenticated


class PortalHandlerWithUser(PortalHandler):
    def target_user(self, user_name: str):
        current = self.current_user
        if isinstance(current, User) and current.name == user_name:
            # One's own card (what every open portal page polls): the hub already loaded this
            # user for the request; find_user would query the database again (benchmarks).
            return current
        user = self.find_user(user_name)
        if user is None:
            raise web.HTTPError(404, "No such user: %s", user_name)
        return user

    async def render_card(self, user) -> None:
        view = await service.server_view(user, self.runtime)
        html = await self.render_fragment(
            "partials/server_card.html", view=view, target=user,
            owner=user.name == self.current_user.name,
        )
        self.finish(html)


class PortalPageHandler(PortalHandlerWithUser):
    """`/hub/portal`: where users land after signing in."""

    @portal_authenticated
    async def get(self) -> None:
        user = self.current_user
        if not hasattr(user, "spawner"):  # a service token has no server of its own
            raise web.HTTPError(400, "The portal page is for users; services use the JSON API.")
        view = await service.server_view(user, self.runtime)
        html = await self.render_fragment(
            "pages/portal.html", view=view, target=user, owner=True
        )
        self.finish(html)


class ServerCardHandler(PortalHandlerWithUser):
    """The card fragment; it polls itself while the state is changing."""

    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        await self.render_card(self.target_user(user_name))


class ServerActionHandler(PortalHandlerWithUser):
    """POST start | stop | restart | recreate, answering with the fresh card."""

    @portal_authenticated
    @needs_action_scope
    async def post(self, user_name: str, action: str) -> None:
        user = self.target_user(user_name)
        try:
            await service.act(
                action, user, self.runtime, spawn_fn=self.spawn_single_user,
                stop_fn=self.stop_single_user,
                public_url=service.loopback_url(self.proxy.public_url),
            )
        except service.ActionRefused as e:
            raise web.HTTPError(e.status, "%s", e.message) from None
        await self.render_card(user)


class RestartConfirmHandler(PortalHandlerWithUser):
    """The confirmation dialog: what a restart keeps and what it loses."""

    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        user = self.target_user(user_name)
        html = await self.render_fragment(
            "partials/restart_confirm.html", target=user,
            owner=user.name == self.current_user.name,
        )
        self.finish(html)


routes = [
    (r"/portal/users/([^/]+)/restart-confirm", RestartConfirmHandler),
    (r"/portal/?", PortalPageHandler),
    (r"/portal/users/([^/]+)/card", ServerCardHandler),
    (r"/portal/users/([^/]+)/(start|stop|restart|recreate)", ServerActionHandler),
]
