"""Owns the idle-culling pages: the admin policy section, its JSON API, keep-running for scripts."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..platform.errors import ActionRefused
from .admin_pages import admin_page
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated

FIELDS = ("idle_after", "warning", "keep_max", "exempt")


class CullingSectionHandler(PortalHandler):
    async def render_section(self, notice: str = "") -> None:
        html = await self.render_fragment("partials/culling_section.html",
                                          policy=self.runtime.cull_policy.current, notice=notice)
        self.finish(html)

    @portal_authenticated
    @needs_scope("admin:servers")
    @admin_page("culling")
    async def get(self) -> None:
        await self.render_section()

    @portal_authenticated
    @needs_scope("admin:servers")
    async def post(self) -> None:
        body = {key: self.get_body_argument(key, "") for key in FIELDS}
        if body["exempt"] == "" and self.get_body_argument("exempt", None) is None:
            body.pop("exempt")
        policy = await self.runtime.cull_policy.change(self.db, self.actor_name, body)
        await self.render_section(f"Saved: {policy.words()}.")


API_FIELDS = ("idle_after", "warning", "keep_max", "exempt_groups")


class CullingAPI(PortalAPIHandler):
    @needs_scope("admin:servers")
    async def get(self) -> None:
        self.write(self.runtime.cull_policy.current.as_json())

    @needs_scope("admin:servers")
    async def put(self) -> None:
        body = self.json_body()
        # A misspelt field would otherwise be dropped in silence, the rest saved without it.
        if unknown := sorted(set(body) - set(API_FIELDS)):
            raise ActionRefused(f"Unknown field {unknown[0][:40]!r}: the policy's fields are "
                                f"{', '.join(API_FIELDS)}.", 400)
        policy = await self.runtime.cull_policy.change(self.db, self.actor_name, {
            "idle_after": body.get("idle_after"), "warning": body.get("warning"),
            "keep_max": body.get("keep_max"), "exempt": body.get("exempt_groups"),
        })
        self.write(policy.as_json())


class KeepRunningAPI(PortalAPIHandler):
    """The default server's idle stop postponed, or a named server's (`server_name`)."""

    @needs_scope("servers")
    async def post(self, user_name: str, server_name: str = "") -> None:
        user = self.target_user(user_name)
        until = await self.runtime.culler.keep_running(user, self.actor_name, server_name)
        self.write({"user": user.name, "server": server_name, "idle_stop_at": until})


routes = [
    (r"/portal/admin/culling", CullingSectionHandler),
    (r"/portal/api/culling", CullingAPI),
    (r"/portal/api/users/([^/]+)/server/keep-running", KeepRunningAPI),
    (r"/portal/api/users/([^/]+)/servers/([^/]+)/keep-running", KeepRunningAPI),
]
