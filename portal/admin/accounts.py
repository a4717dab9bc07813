"""Owns accounts an admin creates (the only way in when ENABLE_SIGNUP=0)."""

from __future__ import annotations

from typing import Any

from nativeauthenticator.orm import UserInfo

from ..audit.log import AuditLog, EventKind
from ..platform.errors import ActionRefused
from ..platform.user_names import RULE, name_clash


async def create_account(authenticator: Any, name: str, password: str, audit: AuditLog,
                         actor: str) -> str:
    """Create an authorized NativeAuthenticator account; returns the normalised user name.

    NativeAuthenticator's own `create_user` refuses everything while signup is off, so the
    admin path writes the account itself, with the same checks on name and password.
    """
    username = authenticator.normalize_username(name.strip())
    if not username or not authenticator.validate_username(username):
        raise ActionRefused(f"A user name has {RULE}.", 400)
    if authenticator.user_exists(username):
        raise ActionRefused(f"An account named {username} already exists.", 409)
    # Also a hub user without a password, or a look-alike of any account (the sign-up rule).
    clash = name_clash(authenticator.db, username,
                       authenticator.normalize_username(authenticator.admin_name))
    if clash is not None:
        raise ActionRefused(clash, 409)
    if not authenticator.is_password_strong(password):
        raise ActionRefused(
            f"The password must have at least {authenticator.minimum_password_length} "
            "characters and not be a common password.",
            400,
        )
    # bcrypt is slow by design (~0.25 s): hashed in the sign-in's own threads, off the event
    # loop, within its bound on checks in flight (portal/auth/passwords.py).
    hashed = await authenticator.hash_password(password)
    authenticator.db.add(UserInfo(username=username, password=hashed, is_authorized=True))
    authenticator.db.commit()
    await audit.record(actor, EventKind.ACCOUNT_CREATED, username, "created by an admin")
    return username
