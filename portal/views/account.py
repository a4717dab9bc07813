"""Owns My account (one's own password, email address, sessions and tokens) and the page where
an account whose password an admin set chooses a new one; the admin's actions on accounts
(reset, disable, enable)."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..admin.account_actions import perform
from ..auth.email_addresses import change_own_email
from ..auth.password_changes import change_own_password, choose_new_password, token_counts
from .base import PortalHandler, portal_authenticated


class AccountPageHandler(PortalHandler):
    """`/hub/portal/account`: change your password, see your sessions and tokens."""

    @portal_authenticated
    async def get(self) -> None:
        html = await self.render_fragment(
            "pages/account.html", tokens=token_counts(self.db, self.current_user.name),
            two_factor=self.runtime.two_factor, user_obj=self.current_user,
            email=self.runtime.emails.of(self.db, self.current_user, self.current_user.name),
            minimum_password_length=self.authenticator.minimum_password_length)
        self.finish(html)


class AccountPasswordHandler(PortalHandler):
    """One's own password: the old one first, through the sign-in's throttle."""

    @portal_authenticated
    async def post(self) -> None:
        field = self.get_body_argument
        await change_own_password(
            self.authenticator, self.db, self.runtime.audit, self.current_user.name,
            self.check_own_password, field("old_password", "", strip=False),
            field("new_password", "", strip=False), field("confirmation", "", strip=False),
            keep_session=self.get_session_cookie())
        self.set_login_cookie(self.current_user)  # this session goes on; the others ended
        self.finish(await self.render_fragment("partials/account_notice.html",
                                               notice="Your password has been changed. Your "
                                               "other sessions were signed out."))


class AccountEmailHandler(PortalHandler):
    """One's own email address (where resets and warnings are mailed): the password first, as
    a stolen cookie must not redirect the mail of a reset."""

    @portal_authenticated
    async def post(self) -> None:
        field = self.get_body_argument
        notice = await change_own_email(
            self.runtime, self.current_user, self.check_own_password,
            field("password", "", strip=False), field("email", "", strip=True))
        self.finish(await self.render_fragment("partials/account_notice.html", notice=notice))


class NewPasswordHandler(PortalHandler):
    """After an admin's reset: choose a new password before reaching anything else."""

    @portal_authenticated
    async def get(self) -> None:
        html = await self.render_fragment(
            "pages/new_password.html",
            minimum_password_length=self.authenticator.minimum_password_length)
        self.finish(html)

    @portal_authenticated
    async def post(self) -> None:
        await choose_new_password(
            self.authenticator, self.db, self.runtime.audit, self.runtime.accounts,
            self.current_user, self.get_body_argument("new_password", "", strip=False),
            self.get_body_argument("confirmation", "", strip=False), self.get_session_cookie())
        self.set_login_cookie(self.current_user)
        self.hx_redirect(self.portal_url())
        self.finish()


class AccountActionHandler(PortalHandler):
    """An admin's reset, disable or enable of one account (the gate asked for sudo mode where
    the action hands back host power)."""

    @portal_authenticated
    @needs_scope("admin:users")
    @needs_scope("admin:servers")
    async def post(self, user_name: str, action: str) -> None:
        done = await perform(action, self.target_user(user_name), authenticator=self.authenticator,
                             db=self.db, runtime=self.runtime, hub=self.hub_actions())
        self.set_header("Cache-Control", "no-store")  # a temporary password is shown once
        self.hx_trigger("portal:users-changed")
        self.finish(await self.render_fragment("partials/account_action_result.html",
                                               user_name=user_name, done=done))


routes = [
    (r"/portal/account/?", AccountPageHandler),
    (r"/portal/account/password", AccountPasswordHandler),
    (r"/portal/account/email", AccountEmailHandler),
    (r"/portal/account/new-password", NewPasswordHandler),
    (r"/portal/admin/accounts/([^/]+)/(reset-password|disable|enable|clear-2fa)",
     AccountActionHandler),
]
