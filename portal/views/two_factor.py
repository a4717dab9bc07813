"""Owns the two-factor pages: the sign-in's code page, setting it up and turning it off on My
account, the page an account holding host power sees until it has set it up, and the admins'
rule."""

from __future__ import annotations

from typing import Any

import segno
from jupyterhub.scopes import needs_scope

from ..auth import two_factor_flow as flow
from ..auth.authenticator import SECOND_FACTOR_PASSED
from ..auth.sign_in_tickets import COOKIE
from ..platform.errors import ActionRefused
from ..platform.upstream import signed_in_now
from .admin_pages import admin_page
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated
from .gate import holds_power


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (drawn on the hub, nothing fetched)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff",
                                                 title="QR code for your authenticator app")

class SignInCodeHandler(PortalHandler):
    """`/hub/portal/login/code`: the second step of a sign-in (a ticket cookie from the first).
    Like the sign-in form, it shows its refusals on its own page."""

    async def get(self) -> None:
        self.finish(await self.render_template("pages/sign_in_code.html", error=""))

    async def post(self) -> None:
        try:
            name = await flow.check_sign_in_code(
                self.runtime.two_factor, self.runtime.sign_in_tickets,
                self.authenticator.passwords, self.runtime.audit, self.find_user,
                self.authenticator.address_of(self), self._ticket(),
                self.get_body_argument("code", "", strip=True))
            await self._sign_in(name)
        except ActionRefused as refused:
            self.set_status(refused.status)
            self.finish(await self.render_template("pages/sign_in_code.html",
                                                   error=refused.message))

    def _ticket(self) -> str:
        value = self.get_secure_cookie(COOKIE, max_age_days=1)
        return value.decode(errors="replace") if value else ""

    async def _sign_in(self, name: str) -> None:
        """The hub's own sign-in for `name`, whose password and code were both right."""
        setattr(self, SECOND_FACTOR_PASSED, name)
        user = await self.login_user({"username": name})
        self.clear_cookie(COOKIE, path=self.hub.base_url)
        if user is None:  # disabled or deleted since the password was typed
            raise ActionRefused(flow.EXPIRED, 403)
        self.authenticator.passwords.signed_in(self.authenticator.address_of(self), name)
        signed_in_now(self, user)
        self.redirect(self.get_next_url(user))


class TwoFactorCommon(PortalHandler):
    def holds_power(self, name: str) -> bool:
        return holds_power(self.db, name)

    async def codes(self, codes: list[str]) -> None:
        self.set_header("Cache-Control", "no-store")  # recovery codes are shown once
        self.finish(await self.render_fragment("partials/recovery_codes.html", codes=codes))


class TwoFactorStartHandler(TwoFactorCommon):
    """A new secret, shown as a QR code and as text, waiting for its first code."""

    @portal_authenticated
    async def post(self) -> None:
        setup = self.runtime.two_factor.begin_setup(self.current_user)
        self.set_header("Cache-Control", "no-store")
        self.finish(await self.render_fragment("partials/two_factor_setup.html", setup=setup,
                                               qr=qr_svg(setup.uri(self.current_user.name))))


class TwoFactorConfirmHandler(TwoFactorCommon):
    @portal_authenticated
    async def post(self) -> None:
        codes = await flow.confirm_setup(self.runtime.two_factor, self.runtime.audit,
                                         self.current_user, self.get_body_argument("code", ""))
        await self.codes(codes)


class RecoveryCodesHandler(TwoFactorCommon):
    @portal_authenticated
    async def post(self) -> None:
        codes = await flow.new_recovery_codes(
            self.runtime.two_factor, self.runtime.audit, self.current_user,
            self.check_own_password, self.get_body_argument("password", "", strip=False))
        await self.codes(codes)


class TwoFactorOffHandler(TwoFactorCommon):
    @portal_authenticated
    async def post(self) -> None:
        await flow.turn_off_own(self.runtime.two_factor, self.runtime.audit, self.current_user,
                                self.check_own_password,
                                self.get_body_argument("password", "", strip=False),
                                self.holds_power)
        self.hx_redirect(self.portal_url("account"))
        self.finish()


class TwoFactorRequiredPage(TwoFactorCommon):
    """Where the gate sends an account holding host power that must set up a second factor."""

    @portal_authenticated
    async def get(self) -> None:
        self.finish(await self.render_fragment("pages/two_factor_required.html",
                                               two_factor=self.runtime.two_factor,
                                               user_obj=self.current_user))


class AccountPolicyHandler(PortalHandler):
    """The admins' rule: two-factor sign-in for everyone who holds host power (turning it off
    needs sudo mode: the gate's table)."""

    async def section(self, notice: str = "") -> Any:
        return await self.render_fragment("partials/account_policy_section.html", notice=notice,
                                          required=self.runtime.two_factor.required_for_host_power)

    @portal_authenticated
    @needs_scope("admin:users")
    @admin_page("account-policy")
    async def get(self) -> None:
        self.finish(await self.section())

    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self) -> None:
        required = self.get_body_argument("require", "") == "on"
        done = await flow.set_required(self.runtime.two_factor, self.runtime.audit,
                                       self.actor_name, required)
        self.finish(await self.section(done))


class AccountPolicyAPI(PortalAPIHandler):
    """`GET`/`PUT /hub/portal/api/account-policy`: `{"two_factor_for_host_power": bool}`."""

    @needs_scope("admin:users")
    async def get(self) -> None:
        self.write({"two_factor_for_host_power": self.runtime.two_factor.required_for_host_power})

    @needs_scope("admin:users")
    async def put(self) -> None:
        required = self.json_body().get("two_factor_for_host_power") is True
        await flow.set_required(self.runtime.two_factor, self.runtime.audit, self.actor_name,
                                required)
        await self.get()


routes = [
    (r"/portal/login/code", SignInCodeHandler),
    (r"/portal/account/two-factor/start", TwoFactorStartHandler),
    (r"/portal/account/two-factor/confirm", TwoFactorConfirmHandler),
    (r"/portal/account/two-factor/recovery-codes", RecoveryCodesHandler),
    (r"/portal/account/two-factor/off", TwoFactorOffHandler),
    (r"/portal/account/two-factor/required", TwoFactorRequiredPage),
    (r"/portal/admin/account-policy", AccountPolicyHandler),
    (r"/portal/api/account-policy", AccountPolicyAPI),
]
