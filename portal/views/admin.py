"""Owns the admin area's page and creating accounts."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..admin.accounts import create_account
from .base import PortalHandler, portal_authenticated


class AdminPageHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("admin-ui")
    async def get(self) -> None:
        html = await self.render_fragment(
            "pages/admin.html", runtime=self.runtime, signup=self.runtime.settings.signup,
            # The table loads at the position the address bar holds (back and reload keep it).
            table_query=self.request.query,
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
    (r"/portal/admin/users", CreateUserHandler),
]
