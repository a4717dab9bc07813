"""Owns the admin area's pending sign-ups: the list, and Approve / Reject as POSTs.

These replace NativeAuthenticator's GET /hub/authorize/<name> and /hub/discard/<name>, which
changed state on a plain link or <img> (portal.auth.handlers now only points here).
"""

from __future__ import annotations

from jupyterhub.scopes import needs_scope
from nativeauthenticator.orm import UserInfo
from tornado import web

from .base import PortalHandler, portal_authenticated


class SignupsHandler(PortalHandler):
    async def render_section(self, notice: str = "") -> None:
        html = await self.render_fragment(
            "partials/admin_signups_section.html", loaded=True, notice=notice,
            pending=self.authenticator.pending_signups(),
            limit=self.authenticator.max_pending_signups)
        self.finish(html)

    @portal_authenticated
    @needs_scope("admin:users")
    async def get(self) -> None:
        await self.render_section()


class SignupDecisionHandler(SignupsHandler):
    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self, name: str, decision: str) -> None:
        info = UserInfo.find(self.db, name)
        if info is None or info.is_authorized:
            raise web.HTTPError(404, "No sign-up of %s is waiting.", name)
        actor = self.current_user.name
        if decision == "approve":
            info.is_authorized = True
            self.db.commit()
            self.log.info("%s approved the sign-up of %s", actor, name)
            notice = f"{name} is approved and can sign in now."
        else:
            self.db.delete(info)
            self.db.commit()
            if self.find_user(name) is not None:
                self.users.delete(name)
            self.log.info("%s rejected the sign-up of %s", actor, name)
            notice = f"The sign-up of {name} was rejected and removed."
        await self.render_section(notice)


routes = [
    (r"/portal/admin/signups", SignupsHandler),
    (r"/portal/admin/signups/([^/]+)/(approve|reject)", SignupDecisionHandler),
]
