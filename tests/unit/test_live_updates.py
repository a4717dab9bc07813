"""Pushed updates, pure logic: which changes are seen, and who may hear about them."""

from __future__ import annotations

from types import SimpleNamespace

from portal.live_updates import QUEUE_BOUND, LiveUpdates
from portal.operations import Operations
from portal.states import OperationKind


def user(name: str, pending=None, ready=False) -> SimpleNamespace:
    spawner = SimpleNamespace(pending=pending, ready=ready, active=bool(pending or ready),
                              escaped_name=f"esc-{name}", phase="")
    return SimpleNamespace(name=name, spawners={"": spawner})


def drain(subscriber) -> list:
    items = []
    while not subscriber.queue.empty():
        items.append(subscriber.queue.get_nowait())
    return items


async def test_changes_reach_the_owner_and_admins_only():
    live = LiveUpdates(Operations())
    ann, admin, bob = (live.subscribe("ann", False), live.subscribe("root", True),
                       live.subscribe("bob", False))
    assert live.compare([user("ann"), user("bob")]) == []  # the first pass is the baseline
    assert live.compare([user("ann", pending="spawn"), user("bob")]) == ["ann"]
    assert drain(ann) == [("ann", "esc-ann")]
    assert drain(admin) == [("ann", "esc-ann")]
    assert drain(bob) == []  # never another user's server


async def test_operations_new_users_and_users_let_go_count_as_changes():
    ops = Operations()
    live = LiveUpdates(ops)
    admin = live.subscribe("root", True)
    live.compare([user("ann", ready=True)])
    ops.acquire("ann", OperationKind.RESTARTING)
    assert live.compare([user("ann", ready=True)]) == ["ann"]
    assert live.compare([user("ann", ready=True), user("cid", pending="spawn")]) == ["cid"]
    assert live.compare([user("cid", pending="spawn")]) == ["ann"]
    assert [name for name, _ in drain(admin)] == ["ann", "cid", "ann"]


async def test_a_stalled_stream_is_told_to_reload_everything():
    live = LiveUpdates(Operations())
    sub = live.subscribe("root", True)
    for i in range(QUEUE_BOUND + 1):
        live.publish(f"u{i}", f"u{i}")
    assert drain(sub) == [None]


async def test_unsubscribed_streams_hear_nothing():
    live = LiveUpdates(Operations())
    sub = live.subscribe("ann", False)
    live.unsubscribe(sub)
    live.publish("ann", "esc-ann")
    assert drain(sub) == [] and live.streams == 0
