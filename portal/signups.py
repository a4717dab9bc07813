"""Owns an admin's decision on a pending sign-up: approve or reject, recorded in the event log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nativeauthenticator.orm import UserInfo

from .audit import AuditLog, EventKind
from .errors import ActionRefused
from .logs import portal_logger

log = portal_logger()


async def decide(db: Any, audit: AuditLog, actor: str, name: str, approve: bool,
                 forget_hub_user: Callable[[str], None]) -> str:
    """Approve or reject `name`'s waiting sign-up; returns the sentence for the admin.

    `forget_hub_user(name)` removes a hub user of that name, if any (a rejected sign-up).
    """
    info = UserInfo.find(db, name)
    if info is None or info.is_authorized:
        raise ActionRefused(f"No sign-up of {name[:80]} is waiting.", 404)
    if approve:
        info.is_authorized = True
        db.commit()
        notice = f"{name} is approved and can sign in now."
    else:
        db.delete(info)
        db.commit()
        forget_hub_user(name)
        notice = f"The sign-up of {name} was rejected and removed."
    log.info("%s %s the sign-up of %s", actor, "approved" if approve else "rejected", name)
    await audit.record(actor, EventKind.ACCOUNT_APPROVED if approve else
                       EventKind.ACCOUNT_REJECTED, name, "sign-up " +
                       ("approved" if approve else "rejected"))
    return notice
