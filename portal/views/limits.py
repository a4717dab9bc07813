"""Owns the lab-limits pages: defaults and per-group overrides in the admin area, JSON API."""

from __future__ import annotations

from jupyterhub import orm
from jupyterhub.scopes import needs_scope

from ..governance.limits import describe
from .admin_pages import admin_page
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated


class LimitsSectionHandler(PortalHandler):
    async def render_section(self, notice: str = "") -> None:
        service = self.runtime.limits
        overrides = sorted((await service.overrides()).values(), key=lambda o: o.group)
        groups = [name for (name,) in self.db.query(orm.Group.name).order_by(orm.Group.name)]
        html = await self.render_fragment(
            "partials/limits_section.html", default=service.default,
            default_servers=service.default_servers, overrides=overrides,
            groups=groups, notice=notice,
        )
        self.finish(html)

    @portal_authenticated
    @needs_scope("admin:groups")
    @admin_page("limits")
    async def get(self) -> None:
        await self.render_section()

    @portal_authenticated
    @needs_scope("admin:groups")
    async def post(self) -> None:
        group = self.get_body_argument("group", "").strip()
        limit = await self.runtime.limits.set_group(
            self.db, self.actor_name, group, self.get_body_argument("memory", ""),
            self.get_body_argument("cpus", ""), self.get_body_argument("servers", ""),
        )
        await self.render_section(
            f"{group}: {describe(limit)}. Applies at each member's next start.")


class LimitsAPI(PortalAPIHandler):
    @needs_scope("admin:groups")
    async def get(self) -> None:
        service = self.runtime.limits
        overrides = sorted((await service.overrides()).values(), key=lambda o: o.group)
        self.write({"default": {**service.default.as_json(),
                                "named_servers": service.default_servers},
                    "groups": [o.as_json() for o in overrides]})


class GroupLimitsAPI(PortalAPIHandler):
    @needs_scope("admin:groups")
    async def put(self, group: str) -> None:
        body = self.json_body()
        limit = await self.runtime.limits.set_group(self.db, self.actor_name, group,
                                                    body.get("memory"), body.get("cpus"),
                                                    body.get("named_servers"))
        self.write(limit.as_json())

    @needs_scope("admin:groups")
    async def delete(self, group: str) -> None:
        limit = await self.runtime.limits.set_group(self.db, self.actor_name, group, None, None)
        self.write(limit.as_json())


routes = [
    (r"/portal/admin/limits", LimitsSectionHandler),
    (r"/portal/api/limits", LimitsAPI),
    (r"/portal/api/limits/groups/([^/]+)", GroupLimitsAPI),
]
