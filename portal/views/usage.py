"""Owns the live-usage pages: the admin area's sortable table and the JSON API (owner, admins).
Each running server is a row of its own, a named one with its name."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..governance.usage import LabUsage
from ..operations.in_flight import key_parts
from ..platform.errors import ActionRefused
from .admin_pages import admin_page, push_position
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated

SORTS = {
    "user": (lambda name, u: name, False),
    "cpu": (lambda name, u: u.cpus or 0.0, True),
    "memory": (lambda name, u: u.memory or 0, True),
    "volumes": (lambda name, u: sum(v or 0 for v in u.volumes.values()), True),
}


def sorted_usage(samples: dict[str, LabUsage], sort: str) -> list[tuple[str, str, LabUsage]]:
    """(user, server, sample) of each server's sample (by server key), sorted."""
    if sort not in SORTS:
        raise ActionRefused(f"Sort by one of: {', '.join(SORTS)}.", 400)
    key, reverse = SORTS[sort]
    ordered = sorted(samples.items(), key=lambda item: key(*item), reverse=reverse)
    return [(*key_parts(lab), usage) for lab, usage in ordered]


class UsageSectionHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("admin:servers")
    @admin_page("usage")
    async def get(self) -> None:
        sort = self.get_argument("sort", "memory")
        usage = self.runtime.usage
        rows = [(name, server, u, usage.stale(u))
                for name, server, u in sorted_usage(usage.all(), sort)]
        push_position(self, "usage")  # after the sort was found valid
        html = await self.render_fragment("partials/usage_section.html", rows=rows, sort=sort,
                                          interval=max(usage.interval, 5))
        self.finish(html)


class UserUsageAPI(PortalAPIHandler):
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        user = self.target_user(user_name)
        usage = self.runtime.usage
        sample = usage.get(user.name)
        named = {name: usage.get(user.name, name) for name in user.orm_spawners if name}
        self.write({"user": user.name, "running": bool(user.spawner.ready),
                    "usage": sample.as_json() if sample else None,
                    "servers": {name: u.as_json() for name, u in sorted(named.items()) if u}})


class UsageAPI(PortalAPIHandler):
    @needs_scope("admin:servers")
    async def get(self) -> None:
        sort = self.get_argument("sort", "memory")
        usage = self.runtime.usage
        self.write({"interval_seconds": usage.interval, "passes": usage.passes,
                    "docker_calls": usage.docker_calls,
                    "last_pass_seconds": round(usage.last_pass_seconds, 3), "labs": [
            {"user": name, "server": server, **u.as_json()} for name, server, u in
            sorted_usage(self.runtime.usage.all(), sort)]})


routes = [
    (r"/portal/admin/usage", UsageSectionHandler),
    (r"/portal/api/usage", UsageAPI),
    (r"/portal/api/users/([^/]+)/usage", UserUsageAPI),
]
