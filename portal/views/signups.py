"""Owns the admin area's pending sign-ups: the list, and Approve / Reject as POSTs.

These replace NativeAuthenticator's GET /hub/authorize/<name> and /hub/discard/<name>, which
changed state on a plain link or <img> (portal.auth.handlers now only points here).
"""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..admin.signups import decide, resemblances
from .admin_pages import admin_page
from .base import PortalHandler, portal_authenticated


class SignupsHandler(PortalHandler):
    async def render_section(self, notice: str = "") -> None:
        pending = self.authenticator.pending_signups()
        html = await self.render_fragment(
            "partials/admin_signups_section.html", loaded=True, notice=notice,
            pending=pending, resembles=resemblances(self.db, pending),
            limit=self.authenticator.max_pending_signups)
        self.finish(html)

    @portal_authenticated
    @needs_scope("admin:users")
    @admin_page("signups")
    async def get(self) -> None:
        await self.render_section()


class SignupDecisionHandler(SignupsHandler):
    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self, name: str, decision: str) -> None:
        settings = self.runtime.settings
        notice = await decide(self.db, self.runtime.audit, self.actor_name, name,
                              decision == "approve",
                              lambda user_name: self.find_user(user_name) is not None,
                              self.runtime.mail,
                              f"{settings.subdomain_host}{settings.base_url}hub/login")
        await self.render_section(notice)


routes = [
    (r"/portal/admin/signups", SignupsHandler),
    (r"/portal/admin/signups/([^/]+)/(approve|reject)", SignupDecisionHandler),
]
