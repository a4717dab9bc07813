"""Owns dormant accounts: the report of accounts without activity for N days (their last
activity and storage), and the optional automatic disable after a number of days.

Activity is the hub's own `last_activity` of the account (a sign-in, a page, its lab's traffic;
the account's creation when it never had any). Storage is the last shared measurement of volume
sizes (one `docker system df`, at most once a minute): the report never asks Docker for more.
Disabling is part 1's (admin/account_actions.disable): the server stops, sessions and tokens
end, the volumes stay. The automatic disable is off unless an admin sets a number of days; a
pass runs hourly, a query of the hub's database and then each account's disable, and is audited
like an admin's, by `(hub)`. With mail on, an account that has an address is mailed WARN_DAYS
before (from the moment it is that quiet), and disabled only WARN_DAYS after its mail; the hub
remembers the mails it sent in memory, so after a restart such an account is mailed again and
waits again (never the other way round).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jupyterhub import orm
from sqlalchemy import func

from ..audit.log import SYSTEM_ACTOR, EventKind
from ..auth.account_states import AccountState, account_key
from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.upstream import HubUser
from ..runtime import Runtime
from ..servers.actions import HubActions
from .account_actions import disable

log = portal_logger("dormant")
MAX_DAYS = 3650
WARN_DAYS = 7  # with mail on, accounts hear this long before an automatic disable
SHOWN = 200  # rows in the report, oldest activity first


@dataclass(frozen=True)
class DormantRow:
    name: str
    last_activity: datetime | None  # naive UTC, as the hub stores it
    created: datetime | None
    storage: int | None  # bytes; None: not measured
    disabled: bool
    admin: bool


@dataclass(frozen=True)
class DormantReport:
    days: int
    rows: list[DormantRow]
    total: int
    sizes_age_s: float | None  # None: no measurement yet (Docker unreachable, or none yet)


def read_days(raw: str, default: int = 90) -> int:
    try:
        days = int(raw) if raw.strip() else default
    except ValueError:
        raise ActionRefused("The number of days must be a whole number.", 400) from None
    if not 1 <= days <= MAX_DAYS:
        raise ActionRefused(f"The number of days must be between 1 and {MAX_DAYS}.", 400)
    return days


def cutoff(days: int, now: datetime | None = None) -> datetime:
    return ((now or datetime.now(UTC)) - timedelta(days=days)).replace(tzinfo=None)


def dormant_query(db: Any, days: int, now: datetime | None = None, *columns: Any) -> Any:
    """Hub users whose last activity (or creation, when none) is older than `days` (`columns`:
    those columns as the database holds them, instead of the users)."""
    seen = func.coalesce(orm.User.last_activity, orm.User.created)
    return db.query(*(columns or (orm.User,))).filter(seen < cutoff(days, now)).order_by(
        seen, orm.User.name)


async def report(db: Any, users: Any, runtime: Runtime, days: int) -> DormantReport:
    query = dormant_query(db, days, None, orm.User.id, orm.User.name, orm.User.last_activity,
                          orm.User.created, orm.User.admin)
    total = query.count()
    found = query.limit(SHOWN).all()
    try:
        sizes = await runtime.volume_sizes.current()
        by_name, age = sizes.by_name, sizes.age_s
    except ActionRefused:  # Docker unreachable: the report still lists the accounts
        by_name, age = {}, None
    rows = []
    for found_user in found:
        user: HubUser = users[found_user.id]
        names = [v.name for v in user.spawner.owned_volumes()]
        storage = sum(by_name[n] for n in names if n in by_name) if age is not None else None
        rows.append(DormantRow(found_user.name, found_user.last_activity, found_user.created,
                               storage, runtime.accounts.state(user) == AccountState.DISABLED,
                               bool(found_user.admin)))
    return DormantReport(days, rows, total, age)


async def set_auto_disable(runtime: Runtime, actor: str, days: int) -> str:
    """0: off. Audited as an account policy."""
    if days and not 1 <= days <= MAX_DAYS:
        raise ActionRefused(f"The number of days must be between 1 and {MAX_DAYS}, or 0 "
                            "(off).", 400)
    await runtime.two_factor.policy.change(actor, dormant_disable_days=days)
    done = (f"Accounts without activity for {days} days are disabled automatically (hourly)."
            if days else "Dormant accounts are no longer disabled automatically.")
    await runtime.audit.record(actor, EventKind.ACCOUNT_POLICY, "dormant accounts", done)
    return done


def warn_soon(app: Any, runtime: Runtime, days: int, warned: dict[str, datetime],
              now: datetime) -> list[str]:
    """Mail the accounts (with an address) that will be disabled within WARN_DAYS; once each
    in this hub's run (`warned`: account key -> when)."""
    if not runtime.mail.enabled:
        return []
    done = []
    for orm_user in dormant_query(app.db, max(1, days - WARN_DAYS), now).all():
        key = account_key(orm_user)
        if orm_user.admin or key in warned or runtime.accounts.state(orm_user) is not None:
            continue
        address = runtime.emails.of(app.db, orm_user, orm_user.name)
        if address and runtime.mail.queue(
                (address,), "DS Hub: your account will be disabled",
                f"Your DS Hub account {orm_user.name} has had no activity for a long time. "
                f"Unless you sign in within {WARN_DAYS} days it will be disabled (your files "
                "are kept; an admin can enable it again).\n",
                f"dormant warning of {orm_user.name}"):
            warned[key] = now
            done.append(orm_user.name)
    return done


def _warned_long_enough(app: Any, runtime: Runtime, orm_user: Any,
                        warned: dict[str, datetime], now: datetime) -> bool:
    """With mail on, an account with an address is disabled only WARN_DAYS after its warning."""
    if not runtime.mail.enabled or not runtime.emails.of(app.db, orm_user, orm_user.name):
        return True
    at = warned.get(account_key(orm_user))
    return at is not None and now - at >= timedelta(days=WARN_DAYS)


async def disable_dormant(app: Any, runtime: Runtime, hub: HubActions,
                          now: datetime | None = None,
                          warned: dict[str, datetime] | None = None) -> list[str]:
    """One pass of the automatic disable (warnings first); the names disabled."""
    days = runtime.two_factor.policy.rules.dormant_disable_days
    if not days:
        return []
    now = now or datetime.now(UTC)
    warned = {} if warned is None else warned
    warn_soon(app, runtime, days, warned, now)
    done = []
    for orm_user in dormant_query(app.db, days, now).all():
        if orm_user.admin or runtime.accounts.state(orm_user) is not None:
            continue  # admins are never locked out by it; disabled ones are already
        if not _warned_long_enough(app, runtime, orm_user, warned, now):
            continue
        try:
            await disable(runtime, app.db, hub, app.users[orm_user.id])
        except ActionRefused as refused:
            log.info("Dormant %s not disabled: %s", orm_user.name, refused.message)
            continue
        done.append(orm_user.name)
    if done:
        log.info("Disabled %d dormant accounts (no activity for %d days): %s", len(done), days,
                 ", ".join(done[:20]))
    return done


async def run_auto_disable(app: Any, runtime: Runtime, every: float = 3600.0,
                           sleep: Callable[[float], Any] = asyncio.sleep) -> None:
    """The hourly pass, for as long as the hub runs."""

    async def hub_stop(user: HubUser) -> None:
        await app.proxy.delete_user(user)
        await user.stop()

    hub = HubActions(spawn=hub_stop, stop=hub_stop, public_url="", actor=SYSTEM_ACTOR)
    warned: dict[str, datetime] = {}
    while True:
        await sleep(every)
        try:
            await disable_dormant(app, runtime, hub, warned=warned)
        except Exception:
            log.exception("The dormant accounts pass failed; the next one is in an hour")
