"""Owns the admins' account rules: two-factor sign-in required for everyone who holds host power,
and the number of days without activity after which accounts are disabled automatically (0:
never). One row in the portal's store, read from memory (the gate asks on every request)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..store.database import PortalStore
from ..store.tables import AccountPolicyRow


@dataclass(frozen=True)
class Rules:
    two_factor_for_host_power: bool = False
    dormant_disable_days: int = 0


class AccountPolicy:
    def __init__(self, store: PortalStore) -> None:
        self.store = store
        self.rules = Rules()
        self.loaded = False

    async def load(self, app: Any = None) -> None:
        def read() -> Rules:
            with self.store.session() as db:
                row = db.get(AccountPolicyRow, 1)
                if row is None:
                    return Rules()
                return Rules(bool(row.require_2fa_host_power), int(row.dormant_disable_days))

        self.rules = await self.store.run(read)
        self.loaded = True

    async def change(self, actor: str, **changes: Any) -> Rules:
        if not self.loaded:
            await self.load()
        new = replace(self.rules, **changes)

        def write() -> None:
            with self.store.session() as db:
                row = db.get(AccountPolicyRow, 1)
                if row is None:
                    row = AccountPolicyRow(id=1)
                    db.add(row)
                row.require_2fa_host_power = new.two_factor_for_host_power
                row.dormant_disable_days = new.dormant_disable_days
                row.changed, row.changed_by = datetime.now(UTC), actor[:255]
                db.commit()

        await self.store.run(write)
        self.rules = new
        return new
