"""Owns changing a password: the new hash, the event in the log, and the end of every other
session of that user.

A changed password must lock out whoever held the old one: the user's hub cookies all carry
the account's cookie id, so a new id ends every browser session at once, and the tokens those
sessions were given for their labs (OAuth tokens tied to a session id) are deleted. The session
that changed its own password keeps going (the page sets it a fresh cookie).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from jupyterhub import orm
from jupyterhub.utils import new_token

from ..audit.log import AuditLog, EventKind
from ..platform.errors import ActionRefused
from .account_states import AccountState, AccountStates

# (user, password) -> right or not, through the sign-in's throttle (raises its 429).
PasswordCheck = Callable[[str, str], Awaitable[bool]]
WRONG_OLD = "Your current password was incorrect. Nothing was changed."
MISMATCH = "The new password and its confirmation differ. Nothing was changed."


def weak(authenticator: Any, whose: str) -> str:
    return (f"{whose} new password needs at least {authenticator.minimum_password_length} "
            "characters and may not be a common one. Nothing was changed.")


def end_sessions(db: Any, user_name: str, keep_session: str | None = None,
                 every_token: bool = False) -> int:
    """End the user's browser sessions except `keep_session`; returns the tokens deleted.

    `every_token`: the API tokens the user made on the token page go too (a disabled account).
    """
    user = orm.User.find(db, user_name)
    if user is None:
        return 0
    user.cookie_id = new_token()
    deleted = 0
    tokens = db.query(orm.APIToken).filter(orm.APIToken.user_id == user.id)
    if not every_token:
        tokens = tokens.filter(orm.APIToken.session_id.isnot(None))
    for token in tokens:
        if token.session_id is None or token.session_id != keep_session:
            db.delete(token)
            deleted += 1
    db.commit()
    return deleted


async def change_password(authenticator: Any, db: Any, audit: AuditLog, user_name: str,
                          new_password: str, actor: str, keep_session: str | None = None,
                          how: str = "") -> bool:
    """Set `user_name`'s password (False: too weak, or no such account); audited."""
    if not await authenticator.change_password_async(user_name, new_password):
        return False
    end_sessions(db, user_name, keep_session)
    how = how or ("their own, with the old password" if actor == user_name
                  else "set by an admin in sudo mode")
    await audit.record(actor, EventKind.PASSWORD_CHANGE, user_name,
                       f"password changed ({how}); other sessions ended")
    return True


async def change_own_password(authenticator: Any, db: Any, audit: AuditLog, user_name: str,
                              check: PasswordCheck, old: str, new: str, confirmation: str,
                              keep_session: str | None) -> None:
    """One's own password, the old one first (the sign-in's throttle); raises ActionRefused
    with the sentence to show, and changes nothing then."""
    if new != confirmation:
        raise ActionRefused(MISMATCH, 400)
    if not await check(user_name, old):
        raise ActionRefused(WRONG_OLD, 403)
    if not await change_password(authenticator, db, audit, user_name, new, user_name,
                                 keep_session=keep_session):
        raise ActionRefused(weak(authenticator, "Your"), 400)


async def choose_new_password(authenticator: Any, db: Any, audit: AuditLog,
                              accounts: AccountStates, user: Any, new: str, confirmation: str,
                              keep_session: str | None) -> None:
    """The password an account chooses after an admin set one for it (a reset, or a batch from
    a CSV): it signed in with that one, which no longer works; raises ActionRefused, changing
    nothing."""
    if accounts.state(user) != AccountState.MUST_CHANGE_PASSWORD:
        raise ActionRefused("Your password was not reset: change it on My account, which asks "
                            "for the current one.", 409)
    if new != confirmation:
        raise ActionRefused(MISMATCH, 400)
    if not authenticator.is_password_strong(new):
        raise ActionRefused(weak(authenticator, "Your"), 400)
    await accounts.change(user, user.name, must_change=False)
    if not await change_password(authenticator, db, audit, user.name, new, user.name,
                                 keep_session=keep_session,
                                 how="chosen at sign-in, replacing one an admin set"):
        await accounts.change(user, user.name, must_change=True)  # nothing lost: ask again
        raise ActionRefused(weak(authenticator, "Your"), 400)


class TokenCounts(NamedTuple):
    """What holds tokens of a user: browser sessions (for their labs), API tokens they made, and
    the tokens JupyterHub gave their running servers (which they did not make)."""

    sessions: int
    made: int
    servers: int


# JupyterHub's note on the token it makes for each server it starts (the same on 5.5 and 6.x).
SERVER_TOKEN_NOTE = "Server at "


def token_counts(db: Any, user_name: str) -> TokenCounts:
    """The tokens of `user_name`, by what holds them (one query)."""
    user = orm.User.find(db, user_name)
    if user is None:
        return TokenCounts(0, 0, 0)
    rows = db.query(orm.APIToken.session_id, orm.APIToken.note).filter(
        orm.APIToken.user_id == user.id).all()
    sessions = {session for session, _ in rows if session is not None}
    unsessioned = [note or "" for session, note in rows if session is None]
    servers = sum(1 for note in unsessioned if note.startswith(SERVER_TOKEN_NOTE))
    return TokenCounts(len(sessions), len(unsessioned) - servers, servers)
