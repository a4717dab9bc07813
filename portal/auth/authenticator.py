"""Owns DSHubAuthenticator: NativeAuthenticator with every password check in one throttled place
(portal/auth/passwords.py), a setup code for the first admin, capped pending sign-ups and a
strict name rule."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from traitlets import Callable, Float, Integer, Unicode

from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.user_names import RULE, is_valid_username, name_clash
from .account_states import AccountState
from .email_addresses import checked
from .passwords import PasswordChecks
from .setup_code import SetupCode
from .throttle import SignInThrottle, client_address

log = portal_logger("auth")
# What an account's password hash becomes once its temporary password was used: no bcrypt hash,
# so no password matches it (passwords.py answers False for it).
USED_TEMPORARY_PASSWORD = b"!temporary password used"
# The attribute the code page sets on its own handler when the second factor was right.
SECOND_FACTOR_PASSED = "dshub_second_factor_passed"


@dataclass
class SignUpResult:
    ok: bool
    message: str
    status: int = 200
    user: UserInfo | None = None
    authorized: bool = False


class DSHubAuthenticator(NativeAuthenticator):
    admin_name = Unicode("admin", config=True, help="JUPYTERHUB_ADMIN: needs the setup code.")
    setup_code_path = Unicode("", config=True, help="Where the setup code is written.")
    max_pending_signups = Integer(50, config=True, help="Sign-ups waiting for approval, at most.")
    trusted_proxy_hops = Integer(0, config=True,
                                 help="Proxies in front of the hub's own (Traefik: 1).")
    signin_free_failures = Integer(5, config=True,
                                   help="Failed sign-ins an address makes before it waits.")
    signin_max_delay = Float(300.0, config=True, help="Longest wait after failures, seconds.")
    signin_account_free_failures = Integer(
        20, config=True, help="Failed tries at one account, from addresses it never signed in "
        "from, before such addresses wait (guessing spread over many addresses).")
    password_checks_in_flight = Integer(
        8, config=True, help="Password checks and hashes waiting or running at most; past it a "
        "try is refused with 429 (bcrypt runs on two threads).")
    bcrypt_rounds = Integer(
        12, min=4, max=31, config=True,
        help="bcrypt's cost factor for new password hashes (each step doubles the work). The "
        "test suite lowers it to 4: its hundreds of sign-ins are not what it tests.")
    signup_recorder = Callable(
        None, allow_none=True, config=True,
        help="async f(user name, detail): a sign-up created an account (the event log; set by "
        "portal.setup). Refused sign-ups are not recorded: anyone may send them.")
    account_state = Callable(
        None, allow_none=True, config=True,
        help="f(hub database, user name): the account's state (portal/auth/account_states.py: "
        "disabled, or a password to choose), None for an ordinary account; set by portal.setup.")
    second_factor = Callable(
        None, allow_none=True, config=True,
        help="f(hub database, user name): the account signs in with a code after its password "
        "(portal/auth/two_factor.py); set by portal.setup.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Sign-in, sudo confirmation, password changes and sign-up share these (one throttle).
        self.throttle = SignInThrottle(free_failures=self.signin_free_failures,
                                       max_delay=self.signin_max_delay,
                                       account_free_failures=self.signin_account_free_failures)
        self.passwords = PasswordChecks(self.throttle, self.password_checks_in_flight,
                                        rounds=self.bcrypt_rounds)
        self.setup_code = SetupCode(self.setup_code_path or "setup-code")
        if _hub_is_starting():
            self.prepare_setup_code()

    # --- setup code ---------------------------------------------------------------------
    def prepare_setup_code(self) -> None:
        """A fresh code while the admin account is missing; none (and no file) once it exists."""
        if self.get_user(self.admin_name) is not None or not self.enable_signup:
            self.setup_code.withdraw()
            return
        code = self.setup_code.issue()
        log.warning(
            "DS Hub setup code: %s  (the account %r does not exist yet: sign up as %r on the "
            "sign-up page and enter this code; it works once. Read it again with "
            "`dshub-setup-code`, in production `docker compose exec jupyterhub "
            "dshub-setup-code`)", code, self.admin_name, self.admin_name)

    # --- passwords: one throttled place, bcrypt off the event loop ------------------------
    async def hash_password(self, password: str) -> bytes:
        return await self.passwords.hash(password)

    def address_of(self, handler: Any) -> str:
        """The client address a request comes from, as the throttle keys it."""
        if handler is None or getattr(handler, "request", None) is None:
            return "-"
        return client_address(handler.request, self.trusted_proxy_hops)

    async def check_account_password(self, handler: Any, username: str, password: str) -> bool:
        """`username`'s own password, checked through the shared throttle (sudo confirmation,
        password changes). Raises ActionRefused (429) when throttled or too busy."""
        info = self.get_user(username) if is_valid_username(username) else None
        hashed = bytes(info.password) if info is not None else None
        return await self.passwords.check(self.address_of(handler), username, password, hashed)

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> str | None:
        """NativeAuthenticator's check through the shared throttle, with no per-account lock."""
        username = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        info = self.get_user(username) if is_valid_username(username) else None
        # The code page sets this on itself (never from the request) once the code was right,
        # for the account whose password its ticket proved.
        code_given = getattr(handler, SECOND_FACTOR_PASSED, None) == username
        valid = code_given or await self.passwords.check(
            self.address_of(handler), username, password, bytes(info.password) if info else None)
        if info is None or not valid:
            return None
        if not info.is_authorized:
            # The login page says "not approved yet" only to someone who knows the password.
            if handler is not None:
                handler.dshub_awaiting_approval = True
            return None
        if info.has_2fa and not info.is_valid_token(data.get("2fa")):
            return None
        state = self.account_state(self.db, username) if self.account_state is not None else None
        if state == AccountState.DISABLED:
            # Said only to someone who knows the password, like "not approved yet".
            if handler is not None:
                handler.dshub_disabled = True
            return None
        if not code_given and self.second_factor is not None and self.second_factor(
                self.db, username):
            # The password was right; the sign-in goes on at the code page (LoginHandler).
            if handler is not None:
                handler.dshub_code_needed = True
            return None
        if state == AccountState.MUST_CHANGE_PASSWORD:
            # A temporary password works once: this sign-in must choose a new one (the gate
            # lets it reach nothing else), and a second sign-in with it fails.
            info.password = USED_TEMPORARY_PASSWORD
            self.db.commit()
        return username

    async def change_password_async(self, username: str, new_password: str) -> bool:
        info = self.get_user(username)
        if info is None or not self.is_password_strong(new_password):
            return False
        info.password = await self.hash_password(new_password)
        self.db.commit()
        return True

    # --- names and sign-up ----------------------------------------------------------------
    def validate_username(self, username: str) -> bool:
        return is_valid_username(username) and super().validate_username(username)

    def pending_signups(self) -> list[UserInfo]:
        return (self.db.query(UserInfo).filter(UserInfo.is_authorized.is_(False))
                .order_by(UserInfo.id).all())

    async def sign_up(self, name: str, password: str, setup_code: str = "",
                      email: str = "") -> SignUpResult:
        """Create a sign-up: the admin with the setup code (approved at once), others pending.
        `email` (optional) is where the approval is mailed."""
        username = self.normalize_username(name)
        try:
            email = checked(email)
        except ActionRefused as refused:
            return SignUpResult(False, refused.message.replace("Nothing was changed.",
                                                               "No account was created."), 400)
        if not self.validate_username(username):
            return SignUpResult(False, f"A user name has {RULE}.", 400)
        admin_name = self.normalize_username(self.admin_name)
        if (taken := name_clash(self.db, username, admin_name)) is not None:
            return SignUpResult(False, taken, 409)
        if not self.is_password_strong(password):
            return SignUpResult(False, f"The password needs at least "
                                f"{self.minimum_password_length} characters and may not be a "
                                "common one.", 400)
        is_admin = username == admin_name
        if is_admin and not self.setup_code.matches(setup_code):
            return SignUpResult(False, f"Signing up as {username!r} needs the one-time setup "
                                "code the hub printed in its log when it started (read it with "
                                "`dshub-setup-code` on the hub). No account was created.", 403)
        if not is_admin and len(self.pending_signups()) >= self.max_pending_signups:
            return SignUpResult(False, "Too many sign-ups are waiting for an admin's approval "
                                "right now. Please try again later, or ask an admin.", 429)
        hashed = await self.hash_password(password)
        if (taken := name_clash(self.db, username, admin_name)) is not None:  # while we hashed
            return SignUpResult(False, taken, 409)
        authorized = is_admin or self.open_signup
        info = UserInfo(username=username, password=hashed, is_authorized=authorized,
                        email=email or None)
        self.db.add(info)
        self.db.commit()
        if is_admin:
            self.setup_code.withdraw()
            log.info("The admin account %s was created with the setup code", username)
        if self.signup_recorder is not None:
            await self.signup_recorder(username, _signup_detail(is_admin, authorized))
        return SignUpResult(True, "", 200, info, authorized)


def _signup_detail(is_admin: bool, authorized: bool) -> str:
    if is_admin:
        return "self sign-up of the configured admin, with the setup code"
    if authorized:
        return "self sign-up, approved at once (open sign-up)"
    return "self sign-up, waiting for an admin's approval"


def _hub_is_starting() -> bool:
    """JupyterHub builds its authenticator inside its running loop; tools loading the config
    have none (the same test as portal.platform.startup.when_hub_runs)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
