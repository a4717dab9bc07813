"""The one password checker (portal/auth/passwords.py) and its throttle: per address and per
account, the owner's own addresses exempt, a bound on checks in flight."""

from __future__ import annotations

import asyncio
import threading

import pytest

from portal.auth import passwords
from portal.auth.passwords import PasswordChecks
from portal.auth.throttle import SignInThrottle
from portal.platform.errors import ActionRefused

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guess(t: SignInThrottle, address: str, account: str) -> float:
    """One wrong password unless refused; returns the wait that refused it (0: it was tried)."""
    wait = t.wait(address, account)
    if not wait:
        t.begin(address)
        t.end(address, False, account)
    return wait


def test_guesses_spread_over_addresses_slow_the_account_for_strangers_only():
    t = SignInThrottle(free_failures=5, account_free_failures=4, clock=Clock())
    t.begin("127.0.0.9")
    t.end("127.0.0.9", True, "ann")  # the owner signed in from here once
    waits = [guess(t, f"192.0.2.{i}", "ann") for i in range(6)]  # one try per address
    assert waits[:4] == [0, 0, 0, 0] and waits[5] > 0
    assert t.wait("198.51.100.7", "ann") > 0  # any other stranger waits too
    assert t.wait("198.51.100.7", "bob") == 0  # other accounts are untouched
    assert t.wait("127.0.0.9", "ann") == 0  # the owner, from their own address, never waits


def test_only_a_successful_sign_in_forgets_failures():
    t = SignInThrottle(free_failures=2, clock=Clock())
    for _ in range(2):
        guess(t, "a", "ann")
    t.begin("a")
    t.end("a", None, "ann")  # a taken name, a pending account's right password: nothing
    assert t.wait("a") > 0
    t.begin("a")
    t.end("a", True, "ann")
    assert t.wait("a") == 0


async def test_checks_past_the_bound_are_refused_at_once_not_queued(monkeypatch):
    release = threading.Event()

    def slow_check(password: str, hashed: bytes | None, rounds: int) -> bool:
        release.wait(5)
        return False

    monkeypatch.setattr(passwords, "_check", slow_check)
    checks = PasswordChecks(SignInThrottle(max_in_flight=10), max_in_flight=3, workers=1,
                            refusal_pause=0.01)
    running = [asyncio.ensure_future(checks.check(f"a{i}", "ann", "x", None)) for i in range(3)]
    await asyncio.sleep(0.05)
    with pytest.raises(ActionRefused) as refused:
        await checks.check("a9", "ann", "x", None)
    assert refused.value.status == 429 and "too many passwords" in refused.value.message
    release.set()
    assert await asyncio.gather(*running) == [False, False, False]
    assert checks.in_flight == 0


async def test_a_throttled_address_is_refused_before_any_bcrypt(monkeypatch):
    calls = []
    monkeypatch.setattr(passwords, "_check", lambda *a: calls.append(a) or False)
    checks = PasswordChecks(SignInThrottle(free_failures=1), refusal_pause=0.01)
    assert not await checks.check("a", "ann", "x", None)
    with pytest.raises(ActionRefused, match="Too many failed attempts"):
        await checks.check("a", "ann", "x", None)
    assert len(calls) == 1
