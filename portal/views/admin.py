"""Owns the admin console's own pages: the dashboard, the user table's page, creating accounts."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..admin.accounts import create_account
from ..admin.dashboard import dashboard
from .admin_pages import admin_page, page_url, render_page
from .base import PortalHandler, portal_authenticated
from .user_table import QUERY_KEYS


class AdminPageHandler(PortalHandler):
    """The dashboard, the admin console's home. The one long page it replaces kept the user
    table's position in its own query string: such an address leads to the users' page."""

    @portal_authenticated
    @needs_scope("admin-ui")
    async def get(self) -> None:
        if any(self.get_argument(k, "") for k in (*QUERY_KEYS, "page")):
            self.redirect(page_url(self, "users", self.request.query))
            return
        await render_page(self, "")


class DashboardHandler(PortalHandler):
    """The dashboard's figures (a fragment: it reloads itself on the page's event stream)."""

    @portal_authenticated
    @needs_scope("admin-ui")
    @admin_page("")
    async def get(self) -> None:
        pending = None
        if self.runtime.settings.signup and "admin:users" in self.parsed_scopes:
            pending = len(self.authenticator.pending_signups())
        swarm_nodes = self.settings.get("dshub_swarm_nodes")

        async def nodes_down() -> list[str]:
            return [node.title for node in await swarm_nodes() if not node.ready]

        found = await dashboard(self.db, self.runtime, pending,
                                nodes_down if swarm_nodes is not None else None)
        html = await self.render_fragment("partials/admin_dashboard.html", board=found)
        self.finish(html)


class AccountsPageHandler(PortalHandler):
    """Creating accounts: one by hand, or many from a CSV (the forms post elsewhere)."""

    @portal_authenticated
    @needs_scope("admin:users")
    async def get(self) -> None:
        await render_page(self, "accounts")


class CreateUserHandler(PortalHandler):
    """GET: the users' page (the user table). POST: create one account."""

    @portal_authenticated
    @needs_scope("admin-ui")
    async def get(self) -> None:
        await render_page(self, "users")

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
    (r"/portal/admin/dashboard", DashboardHandler),
    (r"/portal/admin/accounts/?", AccountsPageHandler),
    (r"/portal/admin/users", CreateUserHandler),
]
