"""Owns sudo mode: granting host power needs the acting user's password, confirmed recently.

What grants host power is decided in one place (portal/access/host_power.py) and enforced on every
route (portal/views/gate.py). A script that holds a session cookie (a lab page on the hub's
origin, a stolen cookie, an unlocked screen) must not be able to do it: such a request needs the
password again unless it was confirmed within `minutes` in the same session. Token requests are
exempt: a token is a credential of its own, and minting one from a session is itself gated.
Passwords are checked, and wrong ones throttled, by the sign-in's own checker
(portal/auth/passwords.py), given as `check`. Confirmations live in memory (a hub restart
forgets them).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from ..audit.log import AuditLog, EventKind
from ..platform.errors import ActionRefused

SUDO_API_PATH = "hub/portal/api/sudo"

# (user, password) -> right or not; raises ActionRefused (429) while the guesser is throttled.
PasswordCheck = Callable[[str, str], Awaitable[bool]]


class SudoRequired(ActionRefused):
    """The action grants host power and the session has not confirmed the password lately."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 403)


class SudoMode:
    """Recent password confirmations, per (user, browser session)."""

    def __init__(self, minutes: int, audit: AuditLog, api_url: str) -> None:
        self.window = minutes * 60.0
        self.audit = audit
        self.api_url = api_url  # where a script confirms (named in every refusal)
        self._confirmed: dict[tuple[str, str], float] = {}  # -> monotonic time of confirmation

    def how_to_confirm(self, what: str) -> str:
        return (f"{what} grants power over the host: confirm your password first. In the portal "
                f"the dialog asks for it; a script posts {{\"password\": \"...\"}} to "
                f"{self.api_url} with the same session, or uses an API token.")

    def active(self, user: str, session: str | None) -> bool:
        if not session or self.window <= 0:
            return False
        at = self._confirmed.get((user, session))
        if at is None:
            return False
        if time.monotonic() - at > self.window:
            del self._confirmed[(user, session)]
            return False
        return True

    async def confirm(self, user: str, session: str | None, password: str,
                      check: PasswordCheck) -> None:
        """Check the password; on success the session is in sudo mode for the window."""
        if not session:
            raise SudoRequired("Sign in again: this session has no id to confirm.")
        # A throttled try (429) rises from `check` unchecked and unrecorded: a flood of them
        # must cost neither bcrypt nor a write to the event log.
        right = await check(user, password)
        if not right:
            await self.audit.record(user, EventKind.SUDO, user, "wrong password", ok=False)
            raise SudoRequired("That password is not right. Enter your own password again.")
        now = time.monotonic()
        self._forget_expired(now)
        self._confirmed[(user, session)] = now
        await self.audit.record(user, EventKind.SUDO, user, "password confirmed")

    async def require(self, user: str, session: str | None, what: str,
                      password: str | None = None,
                      check: PasswordCheck | None = None) -> None:
        """Pass if the session confirmed lately, or `password` (given with the action) is right.

        Raises SudoRequired (403) saying how to confirm, or the refusal of a wrong password.
        """
        if self.active(user, session):
            return
        if password and check is not None:
            await self.confirm(user, session, password, check)
            return
        raise SudoRequired(self.how_to_confirm(what))

    def _forget_expired(self, now: float) -> None:
        for key in [k for k, at in self._confirmed.items() if now - at > self.window]:
            del self._confirmed[key]
