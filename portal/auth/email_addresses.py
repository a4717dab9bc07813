"""Owns users' email addresses (optional): checking one, keeping it, and the address a mail to an
account goes to.

An account sets its address on My account; it is kept in the portal's store and in memory (mail
is queued from sync code such as the dormant pass, so reading never waits on the store). A row
names the hub account by its key, as account states do: a later account given the same name
does not receive its predecessor's mail. An address given at sign-up is NativeAuthenticator's
own `email` column (there is no hub account yet): it is used until the account sets one here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from nativeauthenticator.orm import UserInfo
from sqlalchemy import select

from ..audit.log import EventKind
from ..platform.errors import ActionRefused
from ..store.database import PortalStore
from ..store.tables import EmailAddressRow
from .account_states import account_key

MAX_LENGTH = 254  # RFC 5321's limit on a path
# A plain address: no spaces, quotes, commas or angle brackets (nothing a mail header could
# read as a second recipient or a new line), a domain with a dot and usual labels.
_LOCAL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def checked(text: str) -> str:
    """The address to keep ("" clears it); raises ActionRefused with the sentence to show."""
    address = text.strip()
    if not address:
        return ""
    if len(address) > MAX_LENGTH:
        raise ActionRefused(f"An email address has at most {MAX_LENGTH} characters. Nothing "
                            "was changed.", 400)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ActionRefused("An email address looks like name@example.org (one @, something "
                            "on both sides). Nothing was changed.", 400)
    if not _LOCAL.fullmatch(local) or local.startswith(".") or ".." in local:
        raise ActionRefused("The part before the @ may hold letters, digits and . _ + - "
                            "(no spaces, quotes, commas or non-ASCII letters). Nothing was "
                            "changed.", 400)
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ActionRefused("The part after the @ must be a domain name such as example.org "
                            "(letters, digits and hyphens, with a dot). Nothing was changed.",
                            400)
    return f"{local}@{domain.lower()}"


class EmailAddresses:
    def __init__(self, store: PortalStore) -> None:
        self.store = store
        self._rows: dict[str, tuple[str, str]] = {}  # name -> (account key, address)
        self.loaded = False

    async def load(self, app: Any = None) -> None:
        def read() -> dict[str, tuple[str, str]]:
            with self.store.session() as db:
                return {row.user: (row.owner_key, row.address)
                        for row in db.scalars(select(EmailAddressRow))}

        self._rows = await self.store.run(read)
        self.loaded = True

    def own(self, user: Any) -> str:
        """The address this hub account set on My account ("" when none)."""
        key, address = self._rows.get(getattr(user, "name", ""), ("", ""))
        return address if key == account_key(user) else ""

    def of(self, db: Any, user: Any | None, name: str) -> str:
        """Where mail to the account `name` goes: its own address, else the one given at
        sign-up, else "" (`user`: its hub account, None before it has one)."""
        if user is not None and (address := self.own(user)):
            return address
        info = UserInfo.find(db, name)
        return (info.email or "") if info is not None else ""

    async def change(self, user: Any, text: str) -> str:
        """Set (or, empty, clear) `user`'s own address; returns it as kept."""
        address = checked(text)
        if not self.loaded:
            await self.load()
        name, key = user.name, account_key(user)

        def write() -> None:
            with self.store.session() as db:
                row = db.get(EmailAddressRow, name)
                if not address:
                    if row is not None:
                        db.delete(row)
                    db.commit()
                    return
                if row is None:
                    row = EmailAddressRow(user=name)
                    db.add(row)
                row.owner_key, row.address, row.changed = key, address, datetime.now(UTC)
                db.commit()

        await self.store.run(write)
        if address:
            self._rows[name] = (key, address)
        else:
            self._rows.pop(name, None)
        return address


async def change_own_email(runtime: Any, user: Any, check: Callable[[str, str], Awaitable[bool]],
                           password: str, text: str) -> str:
    """Set or clear one's own address, the password first (the sign-in's throttle): a stolen
    cookie must not send the next reset's mail elsewhere. Audited; returns the sentence."""
    checked(text)  # a bad address is refused before the password is tried
    if not await check(user.name, password):
        raise ActionRefused("Your password was incorrect. Nothing was changed.", 403)
    address = await runtime.emails.change(user, text)
    done = (f"Your email address is now {address}." if address
            else "Your email address is removed: the hub mails you nothing.")
    await runtime.audit.record(user.name, EventKind.EMAIL_CHANGE, user.name,
                               "address set" if address else "address removed")
    return done
