"""Owns every password check and hash: one throttle, bcrypt in threads of its own, and a bound on
the checks in flight.

Sign-in, sudo confirmation, password changes and sign-up all come here, so a guesser gains
nothing by switching routes: a wrong password anywhere counts against the client address and
the account it names (portal/auth/throttle.py), and a throttled address is refused before any
bcrypt runs. Only the sign-in page reports a successful sign-in (`signed_in`), the one outcome
that forgets an address's failures. bcrypt is slow on purpose and the hashing threads are few:
past `max_in_flight` checks waiting or running, a new one is refused with 429 at once instead of
queueing without bound in front of them. Every refusal is answered after a pause
(`refusal_pause`, 1 s; the event loop is free meanwhile): a guesser waiting for its answers
cannot make the hub answer hundreds of refusals a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt

from ..platform import metrics
from ..platform.errors import ActionRefused
from .throttle import SignInThrottle

T = TypeVar("T")


def too_many(wait: float) -> str:
    return (f"Too many failed attempts from your address: please wait {math.ceil(wait)} "
            "seconds before trying again.")


# bcrypt's cost for passphrases the hub generates (80 random bits: admin-created batches). The
# cost stretches guessable human passwords; against 2^80 candidates cost 8 (~15 ms a hash) is as
# out of reach as 12, and 1,000 accounts hash in 15 s instead of 4 minutes.
GENERATED_ROUNDS = 8

BUSY = ("The hub is checking too many passwords right now: please try again in a few "
        "seconds.")


class PasswordChecks:
    """All calls come from the hub's one event loop (no locks needed for the counters)."""

    def __init__(self, throttle: SignInThrottle, max_in_flight: int = 8,
                 workers: int = 2, refusal_pause: float = 1.0, rounds: int = 12) -> None:
        self.throttle = throttle
        self.rounds = rounds  # bcrypt's cost of new hashes (a check uses the hash's own)
        self.max_in_flight = max_in_flight
        self.refusal_pause = refusal_pause
        self.in_flight = 0
        # bcrypt releases the GIL: threads of its own keep the hub's loop and the portal's
        # Docker pool free however many tries arrive, at a lower CPU priority than the loop.
        self.hasher = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dshub-bcrypt",
                                         initializer=_lower_priority)
        # Batches of generated passphrases: one thread of their own, so sign-ins keep theirs.
        self.batch_hasher = ThreadPoolExecutor(max_workers=1, initializer=_lower_priority,
                                               thread_name_prefix="dshub-bcrypt-batch")

    async def refused(self, address: str, account: str = "") -> str | None:
        """Why a try from `address` at `account` is refused right now, said after the pause
        (None at once: it may try)."""
        wait = self.throttle.wait(address, account)
        if not wait:
            return None
        metrics.SIGNINS_THROTTLED.labels("throttled").inc()
        await self.pause()
        return too_many(wait)

    async def pause(self) -> None:
        """Hold a refusal back for a moment (the guesser's connection waits, not the loop)."""
        await asyncio.sleep(self.refusal_pause)

    async def _bounded(self, work: Callable[..., T], *args: object) -> T:
        if self.in_flight >= self.max_in_flight:
            metrics.SIGNINS_THROTTLED.labels("busy").inc()
            await self.pause()
            raise ActionRefused(BUSY, 429)
        self.in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.hasher, functools.partial(work, *args))
        finally:
            self.in_flight -= 1

    async def hash(self, password: str) -> bytes:
        return await self._bounded(_hash, password, self.rounds)

    async def hash_generated(self, passphrase: str) -> bytes:
        """A passphrase the hub generated, hashed on the batch thread (never the event loop)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.batch_hasher, _hash, passphrase,
                                          min(self.rounds, GENERATED_ROUNDS))

    async def check(self, address: str, account: str, password: str,
                    hashed: bytes | None) -> bool:
        """Whether `password` matches `hashed` (None: a dummy hash of the same cost, so an
        unknown account answers as slowly as a wrong password). A wrong one counts against
        `address` and `account`. Raises ActionRefused (429) when throttled or too busy."""
        if (message := await self.refused(address, account)) is not None:
            raise ActionRefused(message, 429)
        self.throttle.begin(address)
        outcome: bool | None = None
        try:
            ok = await self._bounded(_check, password or "", hashed, self.rounds)
            outcome = None if ok else False
            return ok
        finally:
            self.throttle.end(address, outcome, account)

    def failed(self, address: str, account: str = "") -> None:
        """A guess that was not a password (a wrong setup code) counts like a wrong password."""
        self.throttle.begin(address)
        self.throttle.end(address, False, account)

    def signed_in(self, address: str, account: str) -> None:
        """A successful sign-in to an authorized account: the only thing that forgets failures."""
        self.throttle.begin(address)
        self.throttle.end(address, True, account)


# Checked against when the user does not exist, so a miss costs as long as a wrong password
# (no user-name probing by timing).
@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds))


def _hash(password: str, rounds: int) -> bytes:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds))


def _check(password: str, hashed: bytes | None, rounds: int) -> bool:
    if hashed is None:
        bcrypt.checkpw(password.encode(), _dummy_hash(rounds))
        return False
    try:
        return bcrypt.checkpw(password.encode(), bytes(hashed))
    except ValueError:  # not a bcrypt hash
        return False


def _lower_priority() -> None:
    # Linux schedules threads by their own nice value: under a flood of sign-ins the hub's event
    # loop (nice 0) gets the CPU before the hashing threads (nice 10).
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
