"""Owns changing a password: the new hash, the event in the log, and the end of every other
session of that user.

A changed password must lock out whoever held the old one: the user's hub cookies all carry
the account's cookie id, so a new id ends every browser session at once, and the tokens those
sessions were given for their labs (OAuth tokens tied to a session id) are deleted. The session
that changed its own password keeps going (the page sets it a fresh cookie).
"""

from __future__ import annotations

from typing import Any

from jupyterhub import orm
from jupyterhub.utils import new_token

from ..audit.log import AuditLog, EventKind


def end_sessions(db: Any, user_name: str, keep_session: str | None = None) -> int:
    """End the user's browser sessions except `keep_session`; returns the tokens deleted."""
    user = orm.User.find(db, user_name)
    if user is None:
        return 0
    user.cookie_id = new_token()
    deleted = 0
    for token in db.query(orm.APIToken).filter(orm.APIToken.user_id == user.id,
                                               orm.APIToken.session_id.isnot(None)):
        if token.session_id != keep_session:
            db.delete(token)
            deleted += 1
    db.commit()
    return deleted


async def change_password(authenticator: Any, db: Any, audit: AuditLog, user_name: str,
                          new_password: str, actor: str, keep_session: str | None = None) -> bool:
    """Set `user_name`'s password (False: too weak, or no such account); audited."""
    if not await authenticator.change_password_async(user_name, new_password):
        return False
    end_sessions(db, user_name, keep_session)
    how = ("their own, with the old password" if actor == user_name
           else "set by an admin in sudo mode")
    await audit.record(actor, EventKind.PASSWORD_CHANGE, user_name,
                       f"password changed ({how}); other sessions ended")
    return True
