"""Owns the admin area's dormant accounts: the report (N days chosen on the page), bulk disable
through the table's bulk action, bulk archive (sudo mode), and the automatic disable's
setting."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..admin.bulk_actions import check_selection
from ..admin.dormant import read_days, report, set_auto_disable
from ..admin.dormant_archive import archive_dormant
from .admin_pages import admin_page, push_position
from .base import PortalHandler, portal_authenticated


class DormantSectionHandler(PortalHandler):
    async def section(self, days: int, notice: str = "") -> None:
        found = await report(self.db, self.users, self.runtime, days)
        self.finish(await self.render_fragment(
            "partials/dormant_section.html", report=found, notice=notice,
            auto_days=self.runtime.two_factor.policy.rules.dormant_disable_days))

    @portal_authenticated
    @needs_scope("admin:users")
    @admin_page("dormant")
    async def get(self) -> None:
        days = read_days(self.get_argument("days", ""))
        push_position(self, "dormant")
        await self.section(days)

    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self) -> None:
        auto = self.get_body_argument("auto_days", "0").strip() or "0"
        done = await set_auto_disable(self.runtime, self.actor_name,
                                      0 if auto == "0" else read_days(auto))
        await self.section(read_days(self.get_body_argument("days", "")), done)


class DormantArchiveHandler(PortalHandler):
    """Delete the ticked accounts with their volumes archived (the gate asked for sudo mode)."""

    @portal_authenticated
    @needs_scope("admin:users")
    @needs_scope("admin:servers")
    async def post(self) -> None:
        names = check_selection(self.get_body_arguments("user"), None, "")
        results = await archive_dormant(
            self.db, names, read_days(self.get_body_argument("days", "")), find_user=self.find_user,
            authenticator=self.authenticator, users=self.users, runtime=self.runtime,
            hub=self.hub_actions())
        self.hx_trigger("portal:users-changed")
        self.finish(await self.render_fragment("partials/bulk_result.html",
                                               action="archive", results=results))


routes = [
    (r"/portal/admin/dormant", DormantSectionHandler),
    (r"/portal/admin/dormant/archive", DormantArchiveHandler),
]
