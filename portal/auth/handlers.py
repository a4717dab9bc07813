"""Owns the sign-in, sign-up and password pages (in place of NativeAuthenticator's own).

Differences: every password is checked through one throttle (portal/auth/passwords.py: per
client address and per account, bcrypt in threads, a bound on checks in flight), and only a
successful sign-in to an authorized account forgets failures; sign-up asks the admin name for
the setup code and caps pending sign-ups; changing one's own password needs the old one, setting
another's needs sudo mode (the gate, portal/access/host_power.py), and both are audited and end the
user's other sessions; the GET routes that used to approve or discard accounts
(`/authorize/<name>`, `/discard/<name>`) change nothing: approvals are POSTs in the portal.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from jupyterhub.utils import url_path_join
from nativeauthenticator import handlers as native
from tornado import web

from ..platform.errors import ActionRefused
from ..platform.upstream import set_hub_cookie, signed_in_now
from ..platform.user_names import HTML_PATTERN, RULE
from .password_changes import change_own_password, change_password, weak
from .sign_in_tickets import COOKIE


def start_code_step(handler: Any, name: str) -> str:
    """Give the browser a ticket for the code page and return that page's URL (with `next`)."""
    token = handler.settings["dshub_portal"].sign_in_tickets.issue(name)
    set_hub_cookie(handler, COOKIE, token, handler.hub.base_url)
    page = url_path_join(handler.hub.base_url, "portal", "login", "code")
    next_url = handler.get_argument("next", "")
    return f"{page}?{urlencode({'next': next_url})}" if next_url else page


class LoginHandler(native.LoginHandler):
    async def post(self) -> None:
        data = {arg: self.get_argument(arg, strip=False) for arg in self.request.arguments}
        username = data.get("username", "")
        auth = self.authenticator
        address = auth.address_of(self)
        refusal = await auth.passwords.refused(address, auth.normalize_username(username))
        user = None
        if refusal is None:
            try:
                user = await self.login_user(data)
            except ActionRefused as refused:  # throttled meanwhile, or too many checks at once
                refusal = refused.message
        if refusal is not None:
            self.log.warning("Sign-in from %s refused: %s", address, refusal)
            self.set_status(429)
            self.finish(await self._render(login_error=refusal, username=username))
            return
        if getattr(self, "dshub_code_needed", False):
            # The right password of an account with two-factor sign-in: the code comes next.
            self.redirect(start_code_step(self, auth.normalize_username(username)))
            return
        if user:
            # The one outcome that forgets this address's failures.
            auth.passwords.signed_in(address, user.name)
            signed_in_now(self, user)
            self.redirect(self.get_next_url(user))
            return
        error = "Invalid username or password."
        if getattr(self, "dshub_disabled", False):
            # The right password of a disabled account: said, and it forgets nothing either.
            self.set_status(403)
            error = f"The account {username} is disabled. Ask an admin to enable it."
        elif getattr(self, "dshub_awaiting_approval", False):
            # The right password of an account still waiting: said, but it forgets nothing.
            error = f"User {username} has not been approved by an admin yet."
        self.finish(await self._render(login_error=error, username=username))


class SignUpHandler(native.SignUpHandler):
    def _page(self, **ns: Any) -> Any:
        auth = self.authenticator
        return self.render_template(
            "pages/signup.html", name_rule=RULE, name_pattern=HTML_PATTERN,
            admin_name=auth.admin_name, setup_open=auth.setup_code.code is not None,
            minimum_password_length=auth.minimum_password_length, **ns)

    async def get(self) -> None:
        if not self.authenticator.enable_signup:
            raise web.HTTPError(404)
        self.finish(await self._page())

    async def post(self) -> None:
        auth = self.authenticator
        if not auth.enable_signup:
            raise web.HTTPError(404)
        username = self.get_body_argument("username", "", strip=False)
        password = self.get_body_argument("signup_password", "", strip=False)
        confirmation = self.get_body_argument("signup_password_confirmation", "", strip=False)
        code = self.get_body_argument("setup_code", "", strip=True)
        address = auth.address_of(self)
        refusal = await auth.passwords.refused(address, auth.normalize_username(username))
        if refusal is not None:
            self.set_status(429)
            self.finish(await self._page(alert="alert-danger", result_message=refusal,
                                         username=username))
            return
        if password != confirmation:
            self.finish(await self._page(
                alert="alert-danger", username=username,
                result_message="Your password did not match the confirmation. Please try again."))
            return
        auth.throttle.begin(address)  # tries in flight per address, as for sign-ins
        try:
            result = await auth.sign_up(username, password, code,
                                        self.get_body_argument("email", "", strip=True))
        except ActionRefused as refused:  # too many passwords being hashed right now
            self.set_status(refused.status)
            self.finish(await self._page(alert="alert-danger", result_message=refused.message,
                                         username=username))
            return
        finally:
            # Nothing a sign-up does forgets failures (a taken name is no successful sign-in).
            auth.throttle.end(address, None)
        if result.status == 403:  # a wrong setup code is a guess, like a wrong password
            auth.passwords.failed(address, auth.normalize_username(username))
        if not result.ok:
            self.log.warning("Sign-up of %r refused: %s", username, result.message)
            self.set_status(result.status)
            self.finish(await self._page(alert="alert-danger", result_message=result.message,
                                         username=username))
            return
        self.log.info("New sign-up: %s (%s)", result.user.username,
                      "approved" if result.authorized else "waiting for approval")
        if result.authorized:
            message, alert = "The sign-up worked: you can sign in now.", "alert-success"
        else:
            message, alert = ("Your information has been sent to the admin: you can sign in "
                              "once an admin approves your account.", "alert-info")
        self.finish(await self._page(alert=alert, result_message=message))


class ToPortalHandler(native.LocalBase):
    """GET /hub/authorize[/<name>] and /hub/discard/<name>: no change, just the portal's list."""

    @web.authenticated
    async def get(self, *_ignored: str) -> None:
        self.redirect(url_path_join(self.hub.base_url, "portal", "admin", "signups"))


class ChangePasswordHandler(native.ChangePasswordHandler):
    """One's own password: the old one first, through the shared throttle, even in sudo mode."""

    @web.authenticated
    async def post(self) -> None:
        user = await self.get_current_user()
        auth = self.authenticator

        async def check(name: str, given: str) -> bool:
            return await auth.check_account_password(self, name, given)

        alert, message = "alert-success", "Your password has been changed successfully!"
        try:
            await change_own_password(
                auth, self.db, self.settings["dshub_portal"].audit, user.name, check,
                self.get_body_argument("old_password", "", strip=False),
                self.get_body_argument("new_password", "", strip=False),
                self.get_body_argument("new_password_confirmation", "", strip=False),
                keep_session=self.get_session_cookie())
            self.set_login_cookie(user)  # this session goes on with the account's new cookie id
        except ActionRefused as refused:
            self.set_status(refused.status)
            alert, message = "alert-danger", refused.message
        html = await self.render_template("change-password.html", user_name=user.name,
                                          result_message=message, alert=alert)
        self.finish(html)


class ChangePasswordAdminHandler(native.ChangePasswordAdminHandler):
    """Someone else's password: an admin in sudo mode (the gate checks it before this runs)."""

    @native.admin_users_scope
    async def post(self, user_name: str) -> None:
        auth = self.authenticator
        new = self.get_body_argument("new_password", "", strip=False)
        confirmation = self.get_body_argument("new_password_confirmation", "", strip=False)
        actor = self.current_user.name
        if user_name == actor:
            alert, message = "alert-danger", (
                "Change your own password on the change-password page: it asks for the "
                "current one.")
        elif new != confirmation:
            alert, message = "alert-danger", "The new password didn't match the confirmation."
        elif await change_password(auth, self.db, self.settings["dshub_portal"].audit,
                                   user_name, new, actor):
            alert, message = "alert-success", f"The password for {user_name} has been changed."
        else:
            alert, message = "alert-danger", weak(auth, "The")
        html = await self.render_template("change-password-admin.html", user_name=user_name,
                                          result_message=message, alert=alert)
        self.finish(html)
