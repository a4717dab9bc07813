"""Owns the admin area's page, every user's card, and creating accounts."""

from __future__ import annotations

import asyncio

from jupyterhub import orm
from jupyterhub.scopes import needs_scope

from ..accounts import create_account
from ..server_view import server_view
from .base import PortalHandler, portal_authenticated


class AdminPageHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("admin-ui")
    async def get(self) -> None:
        html = await self.render_fragment(
            "pages/admin.html", runtime=self.runtime, signup=self.runtime.settings.signup
        )
        self.finish(html)


class ServerCardsHandler(PortalHandler):
    """Every user's card in one fragment: one request, and gzip works across the cards."""

    @portal_authenticated
    @needs_scope("admin-ui")
    async def get(self) -> None:
        names = [name for (name,) in self.db.query(orm.User.name).order_by(orm.User.name)]
        users = [u for u in (self.find_user(n) for n in names) if u is not None]
        views = await asyncio.gather(*(server_view(u, self.runtime) for u in users))
        me = self.current_user.name
        html = await self.render_fragment(
            "partials/server_cards.html",
            cards=[(view, user, user.name == me) for view, user in zip(views, users, strict=True)],
        )
        self.finish(html)


class CreateUserHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self) -> None:
        name = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        username = await create_account(self.authenticator, name, password, self.runtime.audit,
                                        self.actor_name)
        self.user_from_username(username)
        self.log.info("%s created the account %s", self.current_user.name, username)
        html = await self.render_fragment("partials/user_created.html", username=username)
        self.hx_trigger("portal:users-changed")
        self.finish(html)


routes = [
    (r"/portal/admin/?", AdminPageHandler),
    (r"/portal/admin/servers", ServerCardsHandler),
    (r"/portal/admin/users", CreateUserHandler),
]
