"""Owns the sign-in, sign-up and password pages (in place of NativeAuthenticator's own).

Differences: bcrypt runs in threads, failed tries slow down per client address, sign-up asks the
admin name for the setup code and caps pending sign-ups, and the GET routes that used to approve
or discard accounts (`/authorize/<name>`, `/discard/<name>`) change nothing: approvals are POSTs
in the portal's admin area.
"""

from __future__ import annotations

import math
from typing import Any

from jupyterhub.utils import url_path_join
from nativeauthenticator import handlers as native
from tornado import web

from .names import HTML_PATTERN, RULE
from .throttle import client_address


def _too_many(wait: float) -> str:
    return (f"Too many failed attempts from your address: please wait {math.ceil(wait)} "
            "seconds before trying again.")


class LoginHandler(native.LoginHandler):
    async def post(self) -> None:
        data = {arg: self.get_argument(arg, strip=False) for arg in self.request.arguments}
        username = data.get("username", "")
        auth = self.authenticator
        address = client_address(self.request, auth.trusted_proxy_hops)
        wait = auth.throttle.wait(address)
        if wait:
            self.log.warning("Sign-in from %s refused for %.0f s (failed attempts)", address, wait)
            self.set_status(429)
            self.finish(await self._render(login_error=_too_many(wait), username=username))
            return
        user = None
        auth.throttle.begin(address)
        try:
            user = await self.login_user(data)
        finally:
            awaiting = getattr(self, "dshub_awaiting_approval", False)
            # The right password of an account still waiting is no guess.
            auth.throttle.end(address, success=user is not None or awaiting)
        if user:
            self._jupyterhub_user = user
            self.redirect(self.get_next_url(user))
            return
        error = "Invalid username or password."
        if awaiting:
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
        address = client_address(self.request, auth.trusted_proxy_hops)
        wait = auth.throttle.wait(address)
        if wait:
            self.set_status(429)
            self.finish(await self._page(alert="alert-danger", result_message=_too_many(wait),
                                         username=username))
            return
        if password != confirmation:
            self.finish(await self._page(
                alert="alert-danger", username=username,
                result_message="Your password did not match the confirmation. Please try again."))
            return
        auth.throttle.begin(address)
        result = None
        try:
            result = await auth.sign_up(username, password, code)
        finally:
            # A wrong setup code is a guess, like a wrong password.
            auth.throttle.end(address, success=result is not None and result.status != 403)
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
        self.redirect(url_path_join(self.hub.base_url, "portal", "admin") + "#signups")


class ChangePasswordHandler(native.ChangePasswordHandler):
    @web.authenticated
    async def post(self) -> None:
        user = await self.get_current_user()
        auth = self.authenticator
        old = self.get_body_argument("old_password", "", strip=False)
        new = self.get_body_argument("new_password", "", strip=False)
        confirmation = self.get_body_argument("new_password_confirmation", "", strip=False)
        info = auth.get_user(user.name)
        if info is None or not await auth.check_password(old, info.password):
            alert, message = "alert-danger", "Your current password was incorrect."
        elif new != confirmation:
            alert, message = "alert-danger", "Your new password didn't match the confirmation."
        elif await auth.change_password_async(user.name, new):
            alert, message = "alert-success", "Your password has been changed successfully!"
        else:
            alert, message = "alert-danger", (
                f"Your new password needs at least {auth.minimum_password_length} characters "
                "and may not be a common one.")
        html = await self.render_template("change-password.html", user_name=user.name,
                                          result_message=message, alert=alert)
        self.finish(html)


class ChangePasswordAdminHandler(native.ChangePasswordAdminHandler):
    @native.admin_users_scope
    async def post(self, user_name: str) -> None:
        auth = self.authenticator
        new = self.get_body_argument("new_password", "", strip=False)
        confirmation = self.get_body_argument("new_password_confirmation", "", strip=False)
        if new != confirmation:
            alert, message = "alert-danger", "The new password didn't match the confirmation."
        elif await auth.change_password_async(user_name, new):
            alert, message = "alert-success", f"The password for {user_name} has been changed."
        else:
            alert, message = "alert-danger", (
                f"The new password needs at least {auth.minimum_password_length} characters "
                "and may not be a common one.")
        html = await self.render_template("change-password-admin.html", user_name=user_name,
                                          result_message=message, alert=alert)
        self.finish(html)
