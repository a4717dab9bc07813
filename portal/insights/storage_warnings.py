"""Owns the storage soft quota's warning inside a user's running JupyterLab: one notification
when a usage pass finds the user's volumes past their quota, none again until a pass has found
them back under it.

The usage collector's samples carry the volume sizes it last measured (its `df`, every tenth
pass); after each pass `observe` compares them with the quotas the QuotaService worked out
from memory (no I/O on the loop) and queues the users newly past theirs. `run` sends each one a
notification through the broadcast machinery (the idle warning's path: a token that opens only
that lab), audits it and counts it. Who was told is kept in memory: a hub restart may tell a
user still past their quota once more. The card shows its own warning (servers/view.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ..audit.log import SYSTEM_ACTOR, AuditLog, EventKind
from ..broadcast.broadcaster import Broadcaster
from ..broadcast.targets import target_of
from ..governance.limits import human_size
from ..governance.usage import LabUsage
from ..platform import metrics
from ..platform.logs import portal_logger
from .quotas import QuotaService

log = portal_logger("quotas")


def warning_text(held: int, quota: int) -> str:
    return (f"Your volumes hold {human_size(held)}, more than your storage quota of "
            f"{human_size(quota)}: please remove what you no longer need. The portal's "
            "Manage volumes shows each volume's size.")


class StorageWarnings:
    def __init__(self, quotas: QuotaService, broadcaster: Broadcaster, audit: AuditLog) -> None:
        self.quotas, self.broadcaster, self.audit = quotas, broadcaster, audit
        self.warned: set[str] = set()  # past their quota and told (until found back under)
        self._due: asyncio.Queue[tuple[str, int, int]] = asyncio.Queue()

    def observe(self, samples: Mapping[str, LabUsage]) -> None:
        """One usage pass's samples: queue a warning for each user newly past their quota."""
        for user, usage in samples.items():
            sizes = [size for size in usage.volumes.values() if size is not None]
            if not sizes:
                continue  # not measured yet: neither over nor under
            held, quota = sum(sizes), self.quotas.storage_quota(user)
            if quota and held > quota:
                if user not in self.warned:
                    self.warned.add(user)
                    self._due.put_nowait((user, held, quota))
            else:
                self.warned.discard(user)

    async def run(self, app: Any) -> None:
        """Forever: send the queued warnings, one at a time."""
        while True:
            user, held, quota = await self._due.get()
            try:
                await self.warn(app, user, held, quota)
            except Exception:
                log.exception("Storage warning to %s failed", user)

    async def warn(self, app: Any, name: str, held: int, quota: int) -> bool:
        """One warning into `name`'s lab; audited and counted; whether it was delivered."""
        try:
            user = app.users[name]  # by name: the hub's own lookup (dict.get would not do it)
        except KeyError:  # deleted since the pass
            return False
        # Into one running server of theirs (the default one first): the quota is the user's.
        targets = [target_of(user, server) for server in sorted(user.spawners)]
        target = next((t for t in targets if t.url is not None), target_of(user))
        delivery = await self.broadcaster.notify(target, {
            "message": warning_text(held, quota), "type": "warning", "autoClose": False,
            "immediate": True,
        }, await self.broadcaster.credentials(app.db, [target]))
        metrics.QUOTA_WARNINGS.labels("storage", "delivered" if delivery.ok else "failed").inc()
        log.info("Storage warning to %s (%s of %s): %s", name, human_size(held),
                 human_size(quota), delivery.reason)
        await self.audit.record(SYSTEM_ACTOR, EventKind.QUOTA_WARNING, name,
                                f"storage {human_size(held)} past the quota of "
                                f"{human_size(quota)}: told in the lab ({delivery.reason})",
                                ok=delivery.ok)
        return delivery.ok
