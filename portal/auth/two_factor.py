"""Owns two-factor sign-in: TOTP secrets (RFC 6238, pyotp), recovery codes, the code check that
accepts no code twice, and the admins' rule that accounts holding host power must have it.

Rows live in the portal's store and are read from memory (the sign-in and the gate ask on every
request), like account states: `load` once when the hub serves, every change written to the
store first. A TOTP code is accepted only for a time step later than the last one accepted for
that account, so a code seen over a shoulder or in a proxy log cannot be used again, not even
within its own 30 seconds; the step is moved in memory before anything is awaited, so two
requests racing with one code cannot both pass. Recovery codes (10, 50 random bits each) are kept
only as SHA-256 hashes and each works once. A secret being set up is kept in memory only until it
is confirmed with a code from the app. Secrets are stored encrypted (auth/secret_box.py); one that
cannot be decrypted keeps the second factor required and matches no app code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pyotp
from cryptography.fernet import Fernet
from sqlalchemy import select

from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..store.database import PortalStore
from ..store.tables import TwoFactorRow
from .account_policy import AccountPolicy
from .account_states import account_key
from .secret_box import SecretBox

log = portal_logger("two-factor")
ISSUER = "DS Hub"
# The page an account that must set up two-factor sign-in first is sent to (under the hub).
SET_UP_PATH = "portal/account/two-factor/required"
RECOVERY_CODES = 10
SETUP_SECONDS = 15 * 60  # a secret shown on My account must be confirmed within this
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes: 0/o, 1/l/i


class CodeKind(StrEnum):
    APP = "authenticator app"
    RECOVERY = "recovery code"


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def canonical(code: str) -> str:
    """What a person typed, without spaces and dashes, lower case."""
    return "".join(ch for ch in code.lower() if ch.isalnum())[:64]


def new_recovery_code() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(10))  # 31^10: 49.5 bits
    return f"{chars[:5]}-{chars[5:]}"


@dataclass(frozen=True)
class _Factor:
    key: str  # account_key of the account it belongs to
    secret: str | None  # None: stored, but it cannot be decrypted (no app code matches)
    last_step: int
    recovery: frozenset[str] = field(default_factory=frozenset)  # SHA-256 hex digests


@dataclass(frozen=True)
class Setup:
    """A secret waiting for its first code (shown on My account as a QR code and as text)."""

    key: str
    secret: str
    expires: float

    def uri(self, name: str) -> str:
        return pyotp.TOTP(self.secret).provisioning_uri(name=name, issuer_name=ISSUER)


class TwoFactor:
    """All calls come from the hub's one event loop; the store runs on its own thread."""

    def __init__(self, store: PortalStore, policy: AccountPolicy | None = None,
                 clock: Callable[[], float] = time.time, box: SecretBox | None = None) -> None:
        self.store = store
        # Without a box of the hub's (unit tests): a key of this process only.
        self.box = box or SecretBox(Fernet.generate_key)
        self.policy = policy or AccountPolicy(store)
        self.clock = clock
        self._factors: dict[str, _Factor] = {}
        self._setups: dict[str, Setup] = {}
        self.loaded = False

    @property
    def required_for_host_power(self) -> bool:
        return self.policy.rules.two_factor_for_host_power

    async def load(self, app: Any = None) -> None:
        def read() -> dict[str, _Factor]:
            with self.store.session() as db:
                return {row.user: _Factor(row.owner_key, self.box.open(row.secret, row.user),
                                          row.last_step,
                                          frozenset(filter(None, row.recovery.split(","))))
                        for row in db.scalars(select(TwoFactorRow))}

        self._factors = await self.store.run(read)
        await self.policy.load()
        self.loaded = True

    async def ensure_loaded(self) -> None:
        if not self.loaded:
            await self.load()

    def _factor(self, user: Any) -> _Factor | None:
        factor = self._factors.get(getattr(user, "name", ""))
        return factor if factor is not None and factor.key == account_key(user) else None

    def enabled(self, user: Any) -> bool:
        return self._factor(user) is not None

    def unreadable(self, user: Any) -> bool:
        """Its secret cannot be decrypted: only a recovery code or an admin's clear helps."""
        factor = self._factor(user)
        return factor is not None and factor.secret is None

    def recovery_left(self, user: Any) -> int:
        factor = self._factor(user)
        return len(factor.recovery) if factor is not None else 0

    # --- set-up -------------------------------------------------------------------------
    def begin_setup(self, user: Any) -> Setup:
        """A new secret for `user` (kept until confirmed, or for SETUP_SECONDS)."""
        if self.enabled(user):
            raise ActionRefused("Two-factor sign-in is already on for your account. Turn it "
                                "off first to set up another app.", 409)
        now = self.clock()
        self._setups = {n: s for n, s in self._setups.items() if s.expires > now}
        setup = Setup(account_key(user), pyotp.random_base32(), now + SETUP_SECONDS)
        self._setups[user.name] = setup
        return setup

    def pending_setup(self, user: Any) -> Setup | None:
        setup = self._setups.get(user.name)
        if setup is None or setup.key != account_key(user) or setup.expires <= self.clock():
            return None
        return setup

    async def confirm_setup(self, user: Any, code: str) -> list[str]:
        """Turn two-factor sign-in on with the first code from the app; returns the recovery
        codes (shown once). Raises ActionRefused; a wrong code changes nothing."""
        setup = self.pending_setup(user)
        if setup is None:
            raise ActionRefused("The set-up expired or was never started: start it again and "
                                "scan the new QR code.", 409)
        step = _matching_step(setup.secret, code, self.clock(), -1)
        if step is None:
            raise ActionRefused("That code does not match: check the time on your phone and "
                                "enter the 6 digits your app shows now.", 403)
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        factor = _Factor(setup.key, setup.secret, step,
                         frozenset(_digest(canonical(c)) for c in codes))
        await self._write(user.name, factor)
        self._setups.pop(user.name, None)
        return codes

    async def new_recovery_codes(self, user: Any) -> list[str]:
        factor = self._factor(user)
        if factor is None:
            raise ActionRefused("Two-factor sign-in is off for your account.", 409)
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        await self._write(user.name, replace(
            factor, recovery=frozenset(_digest(canonical(c)) for c in codes)))
        return codes

    async def turn_off(self, user: Any) -> bool:
        """Forget `user`'s secret and recovery codes (False: it had none)."""
        if self._factor(user) is None:
            return False
        name = user.name

        def delete() -> None:
            with self.store.session() as db:
                row = db.get(TwoFactorRow, name)
                if row is not None:
                    db.delete(row)
                db.commit()

        await self.store.run(delete)
        self._factors.pop(name, None)
        return True

    # --- sign-in ------------------------------------------------------------------------
    async def verify(self, user: Any, code: str) -> CodeKind | None:
        """Which second factor `code` is for `user`, used up now (None: it matches nothing,
        or was used before)."""
        factor = self._factor(user)
        if factor is None:
            return None
        typed = canonical(code)
        if len(typed) == 6 and typed.isdigit():
            if factor.secret is None:
                log.warning("An app code for %s cannot be checked: its two-factor secret "
                            "cannot be decrypted (an admin can clear it)", user.name)
                return None
            step = _matching_step(factor.secret, typed, self.clock(), factor.last_step)
            if step is None:
                return None
            new, kind = replace(factor, last_step=step), CodeKind.APP
        else:
            digest = _digest(typed)
            if digest not in factor.recovery:
                return None
            new, kind = replace(factor, recovery=factor.recovery - {digest}), CodeKind.RECOVERY
        # In memory first, with nothing awaited since the check: the same code racing in
        # another request finds it used.
        self._factors[user.name] = new
        await self._write(user.name, new)
        return kind

    # --- the admins' rule ---------------------------------------------------------------
    async def require_for_host_power(self, required: bool, actor: str) -> None:
        await self.policy.change(actor, two_factor_for_host_power=required)

    async def _write(self, name: str, factor: _Factor) -> None:
        def write() -> None:
            with self.store.session() as db:
                row = db.get(TwoFactorRow, name)
                if row is None:
                    row = TwoFactorRow(user=name, created=datetime.now(UTC))
                    db.add(row)
                if factor.secret is not None:  # an unreadable one stays as it was
                    row.secret = self.box.seal(factor.secret)
                row.owner_key, row.last_step = factor.key, factor.last_step
                row.recovery = ",".join(sorted(factor.recovery))
                db.commit()

        await self.store.run(write)
        self._factors[name] = factor


def _matching_step(secret: str, code: str, now: float, after: int) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is `code`, if it is
    later than `after`; None otherwise."""
    typed = canonical(code)
    if len(typed) != 6 or not typed.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.fromtimestamp(now, UTC))
    for step in (current - 1, current, current + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), typed):
            return step
    return None
