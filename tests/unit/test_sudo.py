"""Sudo mode's rules (pure logic): window per session, password given with the action, refusals."""

from __future__ import annotations

import asyncio

import pytest

from portal.access import sudo
from portal.access.sudo import SudoMode, SudoRequired
from portal.platform.errors import ActionRefused

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


class Audit:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    async def record(self, *args, **kw) -> None:
        self.events.append((*args, kw.get("ok", True)))


async def check(name: str, password: str) -> bool:
    return password == "right"


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(sudo.time, "monotonic", lambda: now[0])
    return now


def run(coro):
    return asyncio.run(coro)


def test_confirmation_lasts_the_window_in_that_session_only(clock):
    mode = SudoMode(5, Audit(), "/hub/portal/api/sudo")
    with pytest.raises(SudoRequired, match="/hub/portal/api/sudo"):
        run(mode.require("ann", "s1", "Adding x to docker-sock"))
    run(mode.confirm("ann", "s1", "right", check))
    run(mode.require("ann", "s1", "Adding x to docker-sock"))
    with pytest.raises(SudoRequired):  # another session of the same admin
        run(mode.require("ann", "s2", "Adding x to docker-sock"))
    with pytest.raises(SudoRequired):  # another user on the same session id
        run(mode.require("bob", "s1", "Adding x to docker-sock"))
    clock[0] += 5 * 60 + 1
    with pytest.raises(SudoRequired):
        run(mode.require("ann", "s1", "Adding x to docker-sock"))


def test_password_with_the_action_passes_even_with_no_window(clock):
    mode = SudoMode(0, Audit(), "/x")
    run(mode.require("ann", "s1", "Making an admin", "right", check))
    with pytest.raises(SudoRequired):  # 0 minutes: the next action asks again
        run(mode.require("ann", "s1", "Making an admin"))
    with pytest.raises(SudoRequired, match="not right"):
        run(mode.require("ann", "s1", "Making an admin", "wrong", check))


def test_wrong_passwords_are_audited_and_the_throttle_refusal_passes_through(clock):
    # Throttling lives in the sign-in's password checker (portal/auth/passwords.py), shared
    # with sign-in and password changes; sudo mode passes its refusal on.
    audit = Audit()
    mode = SudoMode(5, audit, "/x")
    with pytest.raises(SudoRequired, match="not right"):
        run(mode.confirm("ann", "s1", "wrong", check))

    async def throttled(name: str, password: str) -> bool:
        raise ActionRefused("Too many failed attempts from your address", 429)

    with pytest.raises(ActionRefused) as refused:
        run(mode.confirm("ann", "s1", "right", throttled))
    assert refused.value.status == 429 and not mode.active("ann", "s1")
    assert [e[-1] for e in audit.events] == [False]  # a refused try is not recorded


def test_a_confirmed_session_is_not_asked_again_even_with_a_password(clock):
    mode = SudoMode(5, Audit(), "/x")
    run(mode.confirm("ann", "s1", "right", check))
    run(mode.require("ann", "s1", "Making an admin", "anything", check))  # no second check


def test_no_session_id_no_sudo_mode(clock):
    mode = SudoMode(5, Audit(), "/x")
    with pytest.raises(SudoRequired):
        run(mode.confirm("ann", None, "right", check))
    assert not mode.active("ann", None)
