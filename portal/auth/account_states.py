"""Owns account states: accounts an admin disabled, and accounts that must choose a new password
(an admin reset theirs, or made them from a CSV with a generated passphrase), kept in the
portal's store and read from memory on every request.

The gate (portal/views/gate.py) asks `state()` before every handler the hub serves, so the rows
are loaded once (`load`, when the hub starts serving) and every change is written to the store
first, then to memory. A row names the hub account by its key (id and creation time): a later
account given the same name is not disabled by its predecessor's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from ..store.database import PortalStore
from ..store.tables import AccountStateRow

# The page where an account whose password an admin reset chooses a new one (under the hub).
NEW_PASSWORD_PATH = "portal/account/new-password"


class AccountState(StrEnum):
    DISABLED = "disabled"
    MUST_CHANGE_PASSWORD = "must change password"


def account_key(user: Any) -> str:
    """The hub account's key (an orm.User, or the hub's User wrapping one)."""
    orm_user = getattr(user, "orm_user", user)
    created = getattr(orm_user, "created", None)
    stamp = created.isoformat() if created is not None else "-"
    return f"{orm_user.id}@{stamp}"


@dataclass(frozen=True)
class _Flags:
    key: str
    disabled: bool
    must_change: bool


class AccountStates:
    def __init__(self, store: PortalStore) -> None:
        self.store = store
        self._flags: dict[str, _Flags] = {}
        self.loaded = False

    async def load(self, app: Any = None) -> None:
        def read() -> dict[str, _Flags]:
            with self.store.session() as db:
                return {row.user: _Flags(row.owner_key, row.disabled, row.must_change_password)
                        for row in db.scalars(select(AccountStateRow))}

        self._flags = await self.store.run(read)
        self.loaded = True

    def state(self, user: Any) -> AccountState | None:
        """This hub account's state (None: an ordinary account)."""
        flags = self._flags.get(getattr(user, "name", ""))
        if flags is None or flags.key != account_key(user):
            return None
        if flags.disabled:
            return AccountState.DISABLED
        if flags.must_change:
            return AccountState.MUST_CHANGE_PASSWORD
        return None

    async def change(self, user: Any, actor: str, *, disabled: bool | None = None,
                     must_change: bool | None = None) -> None:
        """Set one or both flags of `user` (None: kept), in the store, then in memory."""
        if not self.loaded:
            await self.load()
        name, key = user.name, account_key(user)
        old = self._flags.get(name)
        if old is None or old.key != key:
            old = _Flags(key, False, False)
        new = _Flags(key, old.disabled if disabled is None else disabled,
                     old.must_change if must_change is None else must_change)

        def write() -> None:
            with self.store.session() as db:
                row = db.get(AccountStateRow, name)
                if not (new.disabled or new.must_change):
                    if row is not None:
                        db.delete(row)
                    db.commit()
                    return
                if row is None:
                    row = AccountStateRow(user=name)
                    db.add(row)
                row.owner_key, row.disabled = new.key, new.disabled
                row.must_change_password = new.must_change
                row.changed, row.changed_by = datetime.now(UTC), actor[:255]
                db.commit()

        await self.store.run(write)
        if new.disabled or new.must_change:
            self._flags[name] = new
        else:
            self._flags.pop(name, None)

    async def require_new_passwords(self, users: list[Any], actor: str) -> None:
        """Mark new accounts (no row yet) as having to choose a password, in one commit: a
        batch from a CSV marks 100 at a time instead of a commit each."""
        if not self.loaded:
            await self.load()
        flags = {user.name: _Flags(account_key(user), False, True) for user in users}

        def write() -> None:
            now = datetime.now(UTC)
            with self.store.session() as db:
                for name, new in flags.items():
                    row = db.get(AccountStateRow, name) or AccountStateRow(user=name)
                    row.owner_key, row.disabled, row.must_change_password = new.key, False, True
                    row.changed, row.changed_by = now, actor[:255]
                    db.add(row)
                db.commit()

        await self.store.run(write)
        self._flags.update(flags)
