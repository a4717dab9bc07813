"""Operations: one operation per user at a time, and the last outcome per user."""

from __future__ import annotations

import time

import pytest

from portal.operations.action_names import ServerAction
from portal.operations.in_flight import EXITED, Busy, Operation, Operations, Outcome

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


@pytest.fixture
def ops() -> Operations:
    return Operations()


def test_nothing_running_or_recorded_at_first(ops):
    assert ops.current("ann") is None
    assert ops.last("ann") is None


def test_acquire_holds_the_user(ops):
    before = time.monotonic()
    op = ops.acquire("ann", "restarting")
    assert isinstance(op, Operation)
    assert op.kind == "restarting"
    assert before <= op.started <= time.monotonic()
    assert ops.current("ann") is op


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("restarting", "restarting"),
        ("restarting", "resetting volumes"),
        ("resetting volumes", "restarting"),
    ],
)
def test_second_acquire_is_busy_with_the_running_kind(ops, first, second):
    held = ops.acquire("ann", first)
    with pytest.raises(Busy) as caught:
        ops.acquire("ann", second)
    busy = caught.value
    assert busy.user == "ann"
    assert busy.kind == first
    assert str(busy) == f"{first} is already in progress for ann"
    # The refused attempt changes nothing.
    assert ops.current("ann") is held


def test_users_are_independent(ops):
    a = ops.acquire("ann", "restarting")
    b = ops.acquire("bob", "resetting volumes")
    assert ops.current("ann") is a
    assert ops.current("bob") is b
    ops.release("ann")
    assert ops.current("ann") is None
    assert ops.current("bob") is b


def test_release_frees_the_user(ops):
    ops.acquire("ann", "restarting")
    ops.release("ann")
    assert ops.current("ann") is None
    again = ops.acquire("ann", "resetting volumes")
    assert ops.current("ann") is again


def test_release_of_a_free_user_is_harmless(ops):
    ops.release("nobody")
    assert ops.current("nobody") is None


def test_claim_holds_inside_and_releases_after(ops):
    with ops.claim("ann", "restarting") as op:
        assert op.kind == "restarting"
        assert ops.current("ann") is op
        with pytest.raises(Busy):
            ops.acquire("ann", "resetting volumes")
    assert ops.current("ann") is None


def test_claim_releases_when_the_body_raises(ops):
    with pytest.raises(RuntimeError, match="boom"), ops.claim("ann", "restarting"):
        raise RuntimeError("boom")
    assert ops.current("ann") is None


def test_claim_on_a_busy_user_raises_busy_and_keeps_the_holder(ops):
    held = ops.acquire("ann", "resetting volumes")
    entered = False
    with pytest.raises(Busy) as caught, ops.claim("ann", "restarting"):
        entered = True
    assert not entered
    assert caught.value.kind == "resetting volumes"
    # The failed claim must not release the operation it collided with.
    assert ops.current("ann") is held


def test_nested_claim_for_the_same_user_is_refused(ops):
    with ops.claim("ann", "restarting") as outer:
        with pytest.raises(Busy), ops.claim("ann", "restarting"):
            pass
        assert ops.current("ann") is outer
    assert ops.current("ann") is None


def test_record_keeps_the_last_outcome(ops):
    before = time.time()
    ops.record("ann", ServerAction.RESTART, False, "The lab did not answer.")
    last = ops.last("ann")
    assert isinstance(last, Outcome)
    assert (last.kind, last.ok, last.message) == ("restart", False, "The lab did not answer.")
    assert last.kind is ServerAction.RESTART
    assert before <= last.at <= time.time()


def test_record_overwrites_the_previous_outcome(ops):
    ops.record("ann", ServerAction.RESTART, False, "failed")
    ops.record("ann", EXITED, False, "Your server stopped by itself.")
    last = ops.last("ann")
    assert (last.kind, last.ok, last.message) == ("exited", False, "Your server stopped by itself.")


def test_record_is_per_user_and_independent_of_running(ops):
    ops.record("ann", ServerAction.RESTART, True, "ok")
    assert ops.last("bob") is None
    assert ops.current("ann") is None
    with ops.claim("ann", "restarting"):
        assert ops.last("ann").message == "ok"
    assert ops.last("ann").message == "ok"


def test_forget_drops_only_that_users_outcome(ops):
    ops.record("ann", ServerAction.RESTART, False, "failed")
    ops.record("bob", ServerAction.START, False, "failed too")
    ops.forget("ann")
    assert ops.last("ann") is None
    assert ops.last("bob").message == "failed too"


def test_forget_does_not_touch_running_operations(ops):
    op = ops.acquire("ann", "restarting")
    ops.forget("ann")
    assert ops.current("ann") is op


def test_forget_of_unknown_user_is_harmless(ops):
    ops.forget("nobody")
    assert ops.last("nobody") is None


def test_busy_is_an_exception_with_its_fields():
    busy = Busy("ann", "restarting")
    assert isinstance(busy, Exception)
    assert (busy.user, busy.kind) == ("ann", "restarting")
    assert str(busy) == "restarting is already in progress for ann"
