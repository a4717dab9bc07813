"""Owns the quotas' pages: the section on the Insights page (a group's storage soft quota and
lab hours per month) and the JSON API."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..insights.quotas import set_quota
from ..platform.hub_queries import group_members
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated

QUOTAS_SCOPE = "admin:groups"  # like the groups' limits


class QuotasSectionHandler(PortalHandler):
    async def render_section(self, notice: str = "") -> None:
        quotas = sorted((await self.runtime.quotas.groups()).items())
        self.finish(await self.render_fragment(
            "partials/quotas_section.html", quotas=quotas, notice=notice,
            groups=list(group_members(self.db))))

    @portal_authenticated
    @needs_scope(QUOTAS_SCOPE)
    async def get(self) -> None:
        await self.render_section()

    @portal_authenticated
    @needs_scope(QUOTAS_SCOPE)
    async def post(self) -> None:
        group = self.get_body_argument("group", "").strip()
        quota = await set_quota(self.runtime.quotas, self.db, self.actor_name, group,
                                self.get_body_argument("storage", ""),
                                self.get_body_argument("lab_hours", ""))
        await self.render_section(f"{group}: {quota.words()}.")


class QuotasAPI(PortalAPIHandler):
    """`GET /hub/portal/api/quotas`; `PUT .../quotas/groups/{group}` with `{"storage": "10G" or
    null, "lab_hours": 40 or null}` (null: none)."""

    @needs_scope(QUOTAS_SCOPE)
    async def get(self) -> None:
        quotas = await self.runtime.quotas.groups()
        self.write({"groups": [{"group": g, **q.as_json()} for g, q in sorted(quotas.items())]})

    @needs_scope(QUOTAS_SCOPE)
    async def put(self, group: str) -> None:
        body = self.json_body()
        quota = await set_quota(self.runtime.quotas, self.db, self.actor_name, group,
                                body.get("storage"), body.get("lab_hours"))
        self.write({"group": group, **quota.as_json()})


routes = [
    (r"/portal/admin/quotas", QuotasSectionHandler),
    (r"/portal/api/quotas", QuotasAPI),
    (r"/portal/api/quotas/groups/([^/]+)", QuotasAPI),
]
