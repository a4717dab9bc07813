"""The portal's admin area: every user with their server, and creating accounts."""

from __future__ import annotations

from jupyterhub import orm
from jupyterhub.scopes import needs_scope
from tornado import web

from ..accounts import create_account
from ..server_service import ActionRefused
from .base import PortalHandler, portal_authenticated


class AdminPageHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("admin-ui")
    async def get(self) -> None:
        names = [u.name for u in self.db.query(orm.User).order_by(orm.User.name)]
        html = await self.render_fragment(
            "pages/admin.html", names=names, runtime=self.runtime,
            signup=self.runtime.settings.signup,
        )
        self.finish(html)


class CreateUserHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self) -> None:
        name = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        try:
            username = create_account(self.authenticator, name, password)
        except ActionRefused as e:
            raise web.HTTPError(e.status, e.message) from None
        self.user_from_username(username)
        self.log.info("%s created the account %s", self.current_user.name, username)
        html = await self.render_fragment("partials/user_created.html", username=username)
        self.hx_trigger("portal:users-changed")
        self.finish(html)


routes = [
    (r"/portal/admin/?", AdminPageHandler),
    (r"/portal/admin/users", CreateUserHandler),
]
