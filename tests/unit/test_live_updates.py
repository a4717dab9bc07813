"""Pushed updates, pure logic: which events are pushed, how a changing server is followed, and who
may hear about it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from portal.operations.in_flight import Operations
from portal.operations.live_updates import QUEUE_BOUND, LiveUpdates
from portal.operations.states import OperationKind, ServerChange
from portal.platform.tasks import wait_until

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


def spawner(name: str, pending=None, ready=False) -> SimpleNamespace:
    s = SimpleNamespace(pending=pending, ready=ready, escaped_name=f"esc-{name}", phase="")
    s.user = SimpleNamespace(name=name, spawners={"": s})
    return s


def drain(subscriber) -> list:
    items = []
    while not subscriber.queue.empty():
        items.append(subscriber.queue.get_nowait())
    return items


async def test_a_spawner_event_reaches_the_owner_and_admins_only():
    live = LiveUpdates(Operations())
    ann, admin, bob = (live.subscribe("ann", False), live.subscribe("root", True),
                       live.subscribe("bob", False))
    live.server_changed(spawner("ann", pending="stop"), ServerChange.STOPPING)
    assert drain(ann) == [("ann", "esc-ann")]
    assert drain(admin) == [("ann", "esc-ann")]
    assert drain(bob) == []  # never another user's server


async def test_a_changed_server_is_followed_until_nothing_is_pending():
    live = LiveUpdates(Operations(), interval=0.01)
    admin = live.subscribe("root", True)
    ann = spawner("ann", pending="spawn")
    live.server_changed(ann, ServerChange.START_REQUESTED)
    live.server_changed(ann, ServerChange.START_REQUESTED)  # one follower per server
    assert live.following == 1
    assert admin.queue.qsize() == 2  # each request is pushed at once

    async def pushed(count: int) -> bool:  # the follower's turn, however late it comes
        return await wait_until(lambda: admin.queue.qsize() >= count, 10, 0.001)

    await asyncio.sleep(0)  # one turn: the follower's first step takes the state it compares to
    ann.phase = "Starting your container"  # the hub's steps after the spawner's own
    assert await pushed(3)
    ann.pending, ann.ready = None, True
    assert await pushed(4)
    assert await wait_until(lambda: live.following == 0, 10, 0.001)  # settled: unwatched
    assert drain(admin) == [("ann", "esc-ann")] * 4


async def test_nothing_is_followed_while_nobody_listens():
    live = LiveUpdates(Operations(), interval=0.01)
    live.server_changed(spawner("ann", pending="spawn"), ServerChange.START_REQUESTED)
    assert live.following == 0


async def test_operations_and_audit_events_are_pushed_by_name():
    ops = Operations()
    live = LiveUpdates(ops)
    admin, ann = live.subscribe("root", True), live.subscribe("ann", False, "esc-ann")
    ops.acquire("ann", OperationKind.RESTARTING)
    ops.release("ann")
    ops.release("ann")  # nothing held: no event
    # a user whose card name is not known here
    live.audited(SimpleNamespace(target="cid", kind="stop"))
    assert drain(admin) == [("ann", "esc-ann"), ("ann", "esc-ann"), ("cid", "")]
    assert drain(ann) == [("ann", "esc-ann"), ("ann", "esc-ann")]


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


def test_every_published_change_moves_the_generation_on():
    """Shared table renders (operations/shared_renders.py) are stale once anything was published."""
    live = LiveUpdates(Operations())
    live.subscribe("root", True)
    before = live.generation
    live.publish("ann")
    live.operation_changed("bob")
    assert live.generation == before + 2


async def test_a_stream_takes_what_queued_in_one_batch_each_change_once():
    from portal.views.events import event_text

    live = LiveUpdates(Operations())
    admin, ann = live.subscribe("root", True), live.subscribe("ann", False)
    for name in ("ann", "bo", "ann", "cy"):
        live.publish(name, f"esc-{name}")
    batch = admin.take_queued(await admin.queue.get())
    assert batch == [("ann", "esc-ann"), ("bo", "esc-bo"), ("cy", "esc-cy")]
    assert admin.queue.empty()
    text = event_text(batch, "ann bo cy")
    assert [line for line in text.split("\n") if line.startswith("event:")] == [
        "event: card-esc-ann", "event: card-esc-bo", "event: card-esc-cy",
        "event: users-changed"]  # the table is told once for the whole batch
    assert text.endswith("event: users-changed\ndata: ann bo cy\n\n")
    own = ann.take_queued(await ann.queue.get())
    assert event_text(own, None) == (
        "event: card-esc-ann\ndata: esc-ann\n\n")  # no table event for a user's page


async def test_a_reload_in_a_batch_replaces_the_rest():
    from portal.views.events import event_text

    live = LiveUpdates(Operations())
    sub = live.subscribe("root", True)
    for i in range(QUEUE_BOUND + 3):  # overflows: the stream is told to reload
        live.publish(f"u{i}", f"u{i}")
    batch = sub.take_queued(await sub.queue.get())
    assert batch == [None]
    assert event_text(batch, None) == "event: reload\ndata: all\n\n"


def test_a_table_is_told_at_once_after_quiet_then_at_most_every_gap_and_never_left_behind():
    from portal.views.events import TableReloads

    now = [100.0]
    table = TableReloads(gap=3.0, clock=lambda: now[0])
    assert table.wait(15.0) == 15.0 and table.take_due() is None  # nothing to tell
    assert table.changed(["ann"]) == "ann"  # the first change: at once, naming its user
    now[0] = 101.0
    assert table.changed(["cy"]) is None and table.changed(["bo", "cy"]) is None  # held...
    assert table.wait(15.0) == 2.0 and table.take_due() is None
    now[0] = 103.0
    assert table.take_due() == "bo cy"  # ...and told 3 s after the first, every user once
    assert table.wait(15.0) == 15.0
    now[0] = 106.5
    assert table.changed(["dee"]) == "dee"  # quiet for the gap: at once again


def test_a_change_to_accounts_or_groups_tells_every_admin_table_and_no_user_page():
    from portal.audit.log import AuditEvent, EventKind
    from portal.operations.live_updates import ANY_ROW
    from portal.views.events import TableReloads

    live = LiveUpdates(Operations())
    admin, ann = live.subscribe("root", True), live.subscribe("ann", False, "ann")
    at = None

    def audited(kind: EventKind, target: str) -> list:
        live.audited(AuditEvent(1, at, "root", kind, target, "", True))
        return drain(admin)

    assert audited(EventKind.STOP, "ann") == [("ann", "ann")]  # ann's row alone
    assert audited(EventKind.ACCOUNT_CREATED, "newbie") == [("newbie", ""), (ANY_ROW, "")]
    assert audited(EventKind.GROUP_CHANGE, "team") == [("team", ""), (ANY_ROW, "")]
    assert all(change[0] != ANY_ROW for change in drain(ann))  # a user's page: no table
    table = TableReloads(gap=3.0, clock=lambda: 0.0)
    assert table.changed(["newbie", ANY_ROW]) == ANY_ROW  # every table reloads
