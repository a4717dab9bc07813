"""Owns quotas per group member: a storage soft quota (the card warns past it) and lab hours per
calendar month (UTC; Start is refused once they are used up, saying when they renew). A member
of several groups gets the most generous value any of them sets; admins have no lab-hours quota.

Quotas live in the store and in memory. Who has used up their lab hours is worked out after
each write of the usage history (`refresh`), so the spawner's start guard, which every start
passes (portal, /hub/spawn, REST), answers from memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jupyterhub import orm
from sqlalchemy import select

from ..audit.log import AuditLog, EventKind
from ..governance.limits import human_size
from ..platform import metrics
from ..platform import settings_parsers as parsers
from ..platform.errors import ActionRefused
from ..platform.hub_queries import admin_names, group_members
from ..store.database import PortalStore
from ..store.tables import GroupQuotaRow
from . import reports
from .periods import parse_month


@dataclass(frozen=True)
class Quota:
    storage: int | None = None  # bytes per member; None: none
    lab_hours: float | None = None  # per member and month; None: none

    def as_json(self) -> dict[str, Any]:
        return {"storage_bytes": self.storage, "lab_hours": self.lab_hours}

    def words(self) -> str:
        storage = f"storage {human_size(self.storage)}" if self.storage else "no storage quota"
        hours = f"{self.lab_hours:g} lab hours a month" if self.lab_hours else "no lab-hours quota"
        return f"{storage}, {hours}"


def most_generous(quotas: Iterable[Quota]) -> Quota:
    """A member's quota from its groups' (a value any group leaves unset does not count)."""
    quotas = list(quotas)
    storage = [q.storage for q in quotas if q.storage]
    hours = [q.lab_hours for q in quotas if q.lab_hours]
    return Quota(max(storage, default=None), max(hours, default=None))


def parse_quota(storage: str, lab_hours: str) -> Quota:
    """From the admin's form: empty means none."""
    try:
        size = parsers.optional_size(storage or "")
    except ValueError:
        raise ActionRefused(f"Storage {storage[:40]!r} is not a size: write e.g. 10G (at least "
                            "64M), or leave it empty for none.", 400) from None
    try:
        hours = float(lab_hours) if (lab_hours or "").strip() else None
    except ValueError:
        hours = -1.0
    if hours is not None and not 0 < hours <= 744:
        raise ActionRefused("Lab hours must be a number above 0 and at most 744 (a month's "
                            "hours), or empty for none.", 400)
    return Quota(size, hours)


def used_up(hours_used: float, quota: float, now: datetime) -> str:
    """The start refusal of a member who has used `hours_used` of `quota` this month."""
    _, renews = parse_month("", now)
    return (f"You have used your {quota:g} lab hours for {now:%B %Y} ({hours_used:.1f} h); "
            f"they renew on {renews:%Y-%m-%d} at 00:00 UTC. An admin can raise your group's "
            "quota meanwhile.")


class QuotaService:
    def __init__(self, store: PortalStore, audit: AuditLog) -> None:
        self.store, self.audit = store, audit
        self._groups: dict[str, Quota] | None = None
        self._refusals: dict[str, str] = {}  # user -> why Start is refused
        self._storage: dict[str, int] = {}  # user -> bytes of their storage soft quota

    async def groups(self) -> dict[str, Quota]:
        if self._groups is None:
            def load() -> dict[str, Quota]:
                with self.store.session() as db:
                    return {r.group: Quota(r.storage, r.lab_hours)
                            for r in db.scalars(select(GroupQuotaRow))}

            self._groups = await self.store.run(load)
        return {group: quota for group, quota in self._groups.items() if quota != Quota()}

    async def for_groups(self, groups: Iterable[str]) -> Quota:
        known = await self.groups()
        return most_generous(known[g] for g in groups if g in known)

    def start_refusal(self, user: str) -> str | None:
        """Why `user` may not start now (asked once per start: a refusal is counted)."""
        refusal = self._refusals.get(user)
        if refusal is not None:
            metrics.QUOTA_REFUSALS.labels("lab_hours").inc()
        return refusal

    def used_up(self) -> dict[str, str]:
        """Who used up this month's lab hours, each with why Start is refused (from memory;
        the admin dashboard's warning; counts no refusal)."""
        return dict(self._refusals)

    def storage_quota(self, user: str) -> int | None:
        """The user's storage soft quota in bytes, as of the last `refresh` (from memory)."""
        return self._storage.get(user)

    async def storage_warning(self, groups: Iterable[str], volumes: dict[str, int | None]) -> str:
        """The card's warning when the lab's volumes hold more than the storage soft quota."""
        quota = (await self.for_groups(groups)).storage
        held = sum(v for v in volumes.values() if v is not None)
        if not quota or held <= quota:
            return ""
        return (f"Your volumes hold {human_size(held)}, more than your storage quota of "
                f"{human_size(quota)}: please remove what you no longer need.")

    async def set_group(self, actor: str, group: str, quota: Quota) -> Quota:
        """Set a group's quotas (both empty: none); audited with before and after."""
        before = (await self.groups()).get(group, Quota())
        await self.store.put_row(GroupQuotaRow, group, None if quota == Quota() else {
            "storage": quota.storage, "lab_hours": quota.lab_hours})
        self._groups = {**(self._groups or {}), group: quota}  # Quota(): none, not listed
        await self.audit.record(actor, EventKind.QUOTA_CHANGE, group,
                                f"{before.words()} -> {quota.words()}")
        return quota

    async def refresh_from_hub(self, db: Any) -> None:
        """`refresh` with the members of the groups that have quotas and the admins as they are
        now (on the event loop: two queries of the hub's tables, none of members without a
        quota: every group's members were 50,000 rows a minute on a hub with none)."""
        known = await self.groups()
        await self.refresh(group_members(db, known) if known else {}, admin_names(db))

    async def refresh(self, members: dict[str, list[str]], admins: set[str],
                      now: datetime | None = None) -> None:
        """Work out who has used up this month's lab hours (admins never), and each member's
        storage soft quota."""
        now = now or datetime.now(UTC)
        known = await self.groups()
        hours: dict[str, float] = {}
        storage: dict[str, int] = {}
        for group, quota in known.items():
            for user in members.get(group, ()):  # the most generous group's values
                if quota.lab_hours and user not in admins:
                    hours[user] = max(hours.get(user, 0.0), quota.lab_hours)
                if quota.storage:
                    storage[user] = max(storage.get(user, 0), quota.storage)
        self._storage = storage
        if not hours:
            self._refusals = {}
            return
        since, until = parse_month("", now)
        used = await self.store.read(reports.per_user, since, until)
        self._refusals = {user: used_up(used[user].lab_hours, quota, now)
                          for user, quota in hours.items()
                          if user in used and used[user].lab_hours >= quota}



async def set_quota(quotas: QuotaService, db: Any, actor: str, group: str, storage: Any,
                    lab_hours: Any) -> Quota:
    """An admin's change of a group's quotas (form or API), applied at once."""
    if not isinstance(storage, str | None) or not isinstance(lab_hours, str | int | float | None) \
            or isinstance(lab_hours, bool):
        raise ActionRefused("storage must be a size such as 10G and lab_hours a number; null "
                            "or empty for none.", 400)
    quota = parse_quota(storage or "", "" if lab_hours is None else str(lab_hours))
    if orm.Group.find(db, group) is None:
        raise ActionRefused(f"There is no group named {group[:80]!r}.", 404)
    quota = await quotas.set_group(actor, group, quota)
    await quotas.refresh_from_hub(db)
    return quota
