"""Owns what people do with two-factor sign-in, each step audited: set it up and confirm it on My
account, make new recovery codes, turn it off, give the code at sign-in, and the admins' rule
that accounts holding host power must have it.

The sign-in's code step shares the password throttle (portal/auth/passwords.py): a throttled
address or account is refused before any code is looked at, a wrong code counts like a wrong
password and is answered after the same pause, and five wrong codes void the ticket, so the
password must be typed again (portal/auth/sign_in_tickets.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..audit.log import AuditLog, EventKind
from ..platform.errors import ActionRefused
from .password_changes import PasswordCheck
from .passwords import PasswordChecks
from .sign_in_tickets import SignInTickets
from .two_factor import CodeKind, TwoFactor

EXPIRED = ("This sign-in expired (a code is asked for within 5 minutes of the password, and 5 "
           "wrong codes end it): sign in again with your password.")
WRONG_CODE = ("That code is not right, or was used already: enter the code your app shows now "
              "(each works once), or a recovery code.")
REQUIRED = ("Admins require two-factor sign-in for accounts that hold power over the host (admins, "
            "docker-sock and docker-privileged members): it cannot be turned off for yours.")


def must_set_up(two_factor: TwoFactor, user: Any, holds_power: Callable[[str], bool]) -> bool:
    """`user` holds host power, admins require a second factor for that, and it has none."""
    return (two_factor.required_for_host_power and not two_factor.enabled(user)
            and holds_power(user.name))


async def confirm_setup(two_factor: TwoFactor, audit: AuditLog, user: Any,
                        code: str) -> list[str]:
    codes = await two_factor.confirm_setup(user, code)
    await audit.record(user.name, EventKind.TWO_FACTOR, user.name,
                       f"turned on with an authenticator app; {len(codes)} recovery codes made "
                       "(shown once)")
    return codes


async def new_recovery_codes(two_factor: TwoFactor, audit: AuditLog, user: Any,
                             check: PasswordCheck, password: str) -> list[str]:
    if not await check(user.name, password):
        raise ActionRefused("Your password was incorrect. Nothing was changed.", 403)
    codes = await two_factor.new_recovery_codes(user)
    await audit.record(user.name, EventKind.TWO_FACTOR, user.name,
                       f"{len(codes)} new recovery codes made (the old ones no longer work)")
    return codes


async def turn_off_own(two_factor: TwoFactor, audit: AuditLog, user: Any, check: PasswordCheck,
                       password: str, holds_power: Callable[[str], bool]) -> None:
    if two_factor.required_for_host_power and holds_power(user.name):
        raise ActionRefused(REQUIRED, 409)
    if not await check(user.name, password):
        raise ActionRefused("Your password was incorrect. Nothing was changed.", 403)
    if not await two_factor.turn_off(user):
        raise ActionRefused("Two-factor sign-in is already off for your account.", 409)
    await audit.record(user.name, EventKind.TWO_FACTOR, user.name,
                       "turned off by the account itself, with its password")


async def clear(two_factor: TwoFactor, audit: AuditLog, actor: str, user: Any) -> str:
    """An admin removes `user`'s second factor (a lost phone and recovery codes)."""
    if user.name == actor:
        raise ActionRefused("Turn your own two-factor sign-in off on My account.", 409)
    if not await two_factor.turn_off(user):
        raise ActionRefused(f"{user.name} has no two-factor sign-in to clear.", 409)
    done = (f"{user.name}'s two-factor sign-in is cleared: their password alone signs them in "
            "until they set it up again.")
    await audit.record(actor, EventKind.TWO_FACTOR, user.name, done)
    return done


async def set_required(two_factor: TwoFactor, audit: AuditLog, actor: str,
                       required: bool) -> str:
    if required == two_factor.required_for_host_power:
        return "Nothing changed."
    await two_factor.require_for_host_power(required, actor)
    done = ("Two-factor sign-in is now required for accounts that hold host power: those without "
            "it set it up before anything else." if required else
            "Two-factor sign-in is no longer required for accounts that hold host power.")
    await audit.record(actor, EventKind.ACCOUNT_POLICY, "two-factor for host power", done)
    return done


async def check_sign_in_code(two_factor: TwoFactor, tickets: SignInTickets,
                             passwords: PasswordChecks, audit: AuditLog, find_user: Any,
                             address: str, token: str, code: str) -> str:
    """The account whose sign-in `code` completes (its ticket used up); raises ActionRefused
    (403 wrong or expired, 429 throttled) with the sentence for the code page."""
    ticket = tickets.get(token)
    if ticket is None:
        raise ActionRefused(EXPIRED, 403)
    if (refusal := await passwords.refused(address, ticket.user)) is not None:
        raise ActionRefused(refusal, 429)
    user = find_user(ticket.user)
    kind = await two_factor.verify(user, code) if user is not None else None
    if kind is None:
        passwords.failed(address, ticket.user)
        void = tickets.refused(token)
        await passwords.pause()
        raise ActionRefused(EXPIRED if void else WRONG_CODE, 403)
    tickets.use(token)
    if kind == CodeKind.RECOVERY:
        left = two_factor.recovery_left(user)
        await audit.record(user.name, EventKind.TWO_FACTOR, user.name,
                           f"signed in with a recovery code ({left} left)")
    return ticket.user
