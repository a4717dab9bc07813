"""Owns an admin's decision on a pending sign-up: approve or reject, recorded in the event log.
An approved sign-up that gave an address is told by mail (queued: the decision never waits)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nativeauthenticator.orm import UserInfo

from ..audit.log import AuditLog, EventKind
from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.mail import Mailer
from ..platform.user_names import hub_user_names, look_alike, names_in_use

log = portal_logger()


async def decide(db: Any, audit: AuditLog, actor: str, name: str, approve: bool,
                 hub_user_exists: Callable[[str], bool], mail: Mailer | None = None,
                 sign_in_url: str = "") -> str:
    """Approve or reject `name`'s waiting sign-up; returns the sentence for the admin.

    A pending sign-up never made a hub user: one of that name was made by an admin or through
    the REST API, maybe after the sign-up. Approving would hand that account (an admin, a
    docker-sock member) to whoever signed up, so it is refused; rejecting removes only the
    sign-up, never that user (nor their server and volumes).
    """
    info = UserInfo.find(db, name)
    if info is None or info.is_authorized:
        raise ActionRefused(f"No sign-up of {name[:80]} is waiting.", 404)
    if approve and hub_user_exists(name):
        raise ActionRefused(
            f"{name} is already an account of this hub (made by an admin or through the REST "
            "API): approving would give that account to whoever signed up. Reject the sign-up.",
            409)
    if approve:
        info.is_authorized = True
        db.commit()
        notice = f"{name} is approved and can sign in now."
    else:
        db.delete(info)
        db.commit()
        notice = f"The sign-up of {name} was rejected and removed."
    log.info("%s %s the sign-up of %s", actor, "approved" if approve else "rejected", name)
    # The address given at sign-up (there is no hub account yet, so no address of its own).
    mailed = approve and mail is not None and mail.queue(
        (info.email or "",), "DS Hub: your account is approved",
        f"An admin approved your DS Hub account {name}. You can sign in now"
        f"{': ' + sign_in_url if sign_in_url else ''}.\n", f"approval of {name}")
    await audit.record(actor, EventKind.ACCOUNT_APPROVED if approve else
                       EventKind.ACCOUNT_REJECTED, name, "sign-up " +
                       ("approved" if approve else "rejected") +
                       ("; the account was told by mail" if mailed else ""))
    return notice


def resemblances(db: Any, pending: list[UserInfo]) -> dict[str, str]:
    """{pending sign-up: the account it is, or looks like}, for the approval list."""
    hub_users = set(hub_user_names(db))
    in_use = names_in_use(db)
    found = {}
    for info in pending:
        name = info.username
        twin = name if name in hub_users else look_alike(name, in_use)
        if twin is not None:
            found[name] = twin
    return found
