"""Owns the admin area's GPU section (its own fragment, refreshed while detection runs)."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from .admin_pages import admin_page
from .base import PortalHandler, portal_authenticated


class GpuSectionHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("admin-ui")
    @admin_page("gpu")
    async def get(self) -> None:
        html = await self.render_fragment("partials/admin_gpu_section.html", runtime=self.runtime)
        self.finish(html)


routes = [
    (r"/portal/admin/gpu", GpuSectionHandler),
]
