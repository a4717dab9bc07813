"""Owns an admin's actions on an account: reset its password, disable it, enable it again.

A reset sets a one-time temporary password (shown once to the admin, stored only as a bcrypt
hash, never logged) and marks the account so that its next sign-in must choose a new password
before anything else (portal/auth/account_states.py, enforced by the gate). Disabling stops the
account's server (its volumes stay), ends its browser sessions and revokes every token it holds;
a disabled account cannot sign in, and the gate refuses whatever credential it still shows.
Clearing an account's two-factor sign-in (a lost phone) lets its password alone sign it in.
Every action is one event in the log. Granting power (a reset, an enable or a clear of an account
that holds host power) needs sudo mode: the gate asks before these run (access/host_power.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..audit.log import AuditLog, EventKind
from ..auth.account_states import AccountState, AccountStates
from ..auth.password_changes import end_sessions
from ..auth.setup_code import new_code
from ..auth.two_factor_flow import clear as clear_two_factor
from ..platform.errors import ActionRefused
from ..platform.mail import Mailer
from ..platform.upstream import HubUser, hub_stopping
from ..runtime import Runtime
from ..servers.actions import HubActions, stop_server

ACTIONS = ("reset-password", "disable", "enable", "clear-2fa")


def _not_oneself(user: HubUser, actor: str, what: str) -> None:
    if user.name == actor:
        raise ActionRefused(f"You cannot {what} your own account: another admin can. (Your own "
                            "password is changed on My account.)", 409)


async def reset_password(authenticator: Any, db: Any, accounts: AccountStates, audit: AuditLog,
                         actor: str, user: HubUser, mail: Mailer | None = None,
                         address: str = "") -> str:
    """Set a temporary password for `user` and return it (for the admin to hand over once;
    mailed to `address` too when there is one)."""
    _not_oneself(user, actor, "reset the password of")
    info = authenticator.get_user(user.name)
    if info is None:
        raise ActionRefused(f"{user.name} has no password here (an account made through the "
                            "hub's API signs in otherwise): there is nothing to reset.", 409)
    temporary = new_code()
    # Hashed off the event loop (may be refused as busy: nothing has changed then).
    hashed = await authenticator.hash_password(temporary)
    await accounts.change(user, actor, must_change=True)
    info.password = hashed
    authenticator.db.commit()
    end_sessions(db, user.name)
    mailed = mail is not None and mail.queue(
        (address,), "DS Hub: your temporary password",
        f"An admin reset your DS Hub password. Sign in as {user.name} with this temporary "
        f"password, once, and choose your own:\n\n    {temporary}\n",
        f"temporary password of {user.name}")
    await audit.record(actor, EventKind.PASSWORD_RESET, user.name,
                       "temporary password set (shown once to the admin"
                       f"{', and mailed to the account' if mailed else ''}); a new one must be "
                       "chosen at the next sign-in; browser sessions ended")
    return temporary


async def _stop(user: HubUser, runtime: Runtime, hub: HubActions) -> str:
    spawner = user.spawner
    if not spawner.active or hub_stopping(spawner):
        return "no server was running"
    try:
        await stop_server(user, runtime.operations, hub)
    except ActionRefused as refused:
        return f"its server could not be stopped now ({refused.message}); stop it from the table"
    return "its server is stopping"


async def disable(runtime: Runtime, db: Any, hub: HubActions, user: HubUser) -> str:
    """Disable `user`: no sign-in, server stopped (volumes kept), sessions and tokens revoked.
    Returns what was done, in a sentence."""
    _not_oneself(user, hub.actor, "disable")
    if runtime.accounts.state(user) == AccountState.DISABLED:
        raise ActionRefused(f"{user.name} is already disabled.", 409)
    await runtime.accounts.change(user, hub.actor, disabled=True)
    stopped = await _stop(user, runtime, hub)
    revoked = end_sessions(db, user.name, every_token=True)
    done = (f"{user.name} is disabled: {stopped}, its volumes are kept, its browser sessions "
            f"ended and {revoked} token{'' if revoked == 1 else 's'} revoked.")
    await runtime.audit.record(hub.actor, EventKind.ACCOUNT_DISABLED, user.name, done)
    return done


async def enable(runtime: Runtime, actor: str, user: HubUser) -> str:
    if runtime.accounts.state(user) != AccountState.DISABLED:
        raise ActionRefused(f"{user.name} is not disabled.", 409)
    await runtime.accounts.change(user, actor, disabled=False)
    done = f"{user.name} is enabled: they can sign in again."
    await runtime.audit.record(actor, EventKind.ACCOUNT_ENABLED, user.name, done)
    return done


@dataclass(frozen=True)
class Done:
    notice: str
    passphrase: str = ""  # a reset's temporary password, shown once


async def perform(action: str, user: HubUser, *, authenticator: Any, db: Any, runtime: Runtime,
                  hub: HubActions) -> Done:
    """Run one of ACTIONS on `user` for the admin `hub.actor`; raises ActionRefused."""
    if action == "reset-password":
        passphrase = await reset_password(authenticator, db, runtime.accounts, runtime.audit,
                                          hub.actor, user, runtime.mail,
                                          runtime.emails.of(db, user, user.name))
        return Done(f"{user.name} must choose a new password at their next sign-in.",
                    passphrase)
    if action == "disable":
        return Done(await disable(runtime, db, hub, user))
    if action == "enable":
        return Done(await enable(runtime, hub.actor, user))
    if action == "clear-2fa":
        return Done(await clear_two_factor(runtime.two_factor, runtime.audit, hub.actor, user))
    raise ActionRefused(f"Unknown account action {action[:30]!r}.", 400)
