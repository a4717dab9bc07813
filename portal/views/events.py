"""Owns the server-sent event stream each open portal page listens to (htmx SSE extension).

A user's stream names only their own server; an admin's (`admin-ui`) names everyone's. Events:
`card-<escaped name>` (that card reloads itself) and, for admins, `users-changed` (the user
table reloads its rows). A comment line every HEARTBEAT seconds keeps proxies from closing it.

A stream writes at most every BATCH_GAP seconds: what was queued meanwhile goes out in one
write and one flush, each card once. One write and flush per change per stream (500 admin
pages, 100 changes: 50,000 on the loop) left streams behind until their queues overflowed into
"reload everything" (docs/benchmarks.md, section 15). `users-changed` names the users whose rows
changed (or says "," when accounts or groups did: any row may have): a table that shows none of
them, in a view that server states do not order or filter, does not reload (portal.js); one that
does reloads its rows (a request each). The first change after a quiet spell is told at once,
more within TABLE_GAP seconds together TABLE_GAP seconds after it (500 pages reloading every
second cost the hub more than polling every 10 s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from tornado.iostream import StreamClosedError

from ..operations.live_updates import ANY_ROW, Change, Subscriber
from .base import PortalHandler, portal_authenticated

HEARTBEAT = 15.0
BATCH_GAP = 0.25  # seconds between two writes of one stream
TABLE_GAP = 3.0  # seconds between two `users-changed` of one stream


def users_changed(names: str) -> str:
    return f"event: users-changed\ndata: {names}\n\n"


def event_text(changes: list[Change], table: str | None) -> str:
    """The events for a batch of changes (Subscriber.take_queued): one write; `table`: the
    users an admin's table is told of with them (None: not now)."""
    if changes == [None]:
        text = "event: reload\ndata: all\n\n"
    else:  # "": a user whose card name is unknown here (the table only)
        text = "".join(f"event: card-{escaped}\ndata: {escaped}\n\n"
                       for _, escaped in filter(None, changes) if escaped)
    return text + (users_changed(table) if table is not None else "")


class TableReloads:
    """When one admin page's table is told which users changed: at once after `gap` quiet
    seconds, otherwise `gap` seconds after it was last told (the last change of a burst is told
    too), with every user changed since (names never hold a space)."""

    def __init__(self, gap: float = TABLE_GAP, clock: Callable[[], float] = time.monotonic):
        self.gap, self.clock = gap, clock
        self.told = float("-inf")
        self.due: float | None = None  # when a change not yet told is to be told
        self.names: set[str] = set()  # changed since the table was last told

    def changed(self, names: Iterable[str]) -> str | None:
        """Users changed: what to tell the table now (None: later)."""
        self.names.update(names)
        now = self.clock()
        if now - self.told >= self.gap:
            return self._tell(now)
        self.due = self.told + self.gap
        return None

    def wait(self, longest: float) -> float:
        """Seconds to wait for the next change before a change not yet told is due."""
        return longest if self.due is None else max(0.0, min(longest, self.due - self.clock()))

    def take_due(self) -> str | None:
        """What to tell the table if changes not yet told are due now (else None)."""
        now = self.clock()
        if self.due is None or now < self.due:
            return None
        return self._tell(now)

    def _tell(self, now: float) -> str:
        self.told, self.due = now, None
        names, self.names = self.names, set()
        return ANY_ROW if ANY_ROW in names or not names else " ".join(sorted(names))


class EventStreamHandler(PortalHandler):
    subscriber: Subscriber | None = None
    table: TableReloads | None = None  # an admin's page: when its table is told to reload

    @portal_authenticated
    async def get(self) -> None:
        user = self.current_user
        live = self.runtime.live
        own_card = getattr(user.spawner, "escaped_name", "")  # the element id of their card
        self.subscriber = live.subscribe(user.name, "admin-ui" in self.parsed_scopes, own_card)
        self.table = TableReloads() if self.subscriber.sees_everyone else None
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        try:
            self.write(": connected\n\n")
            await self.flush()
            while self.subscriber is not None:
                await self._send_next(self.subscriber)
                await asyncio.sleep(BATCH_GAP)  # what queues meanwhile goes out in one write
        except StreamClosedError:
            pass
        finally:
            self.on_connection_close()

    async def _send_next(self, subscriber: Subscriber) -> None:
        table = self.table
        try:
            change = await asyncio.wait_for(subscriber.queue.get(),
                                            table.wait(HEARTBEAT) if table else HEARTBEAT)
        except TimeoutError:
            due = table.take_due() if table else None
            self.write(": keep-alive\n\n" if due is None else users_changed(due))
        else:
            if self.subscriber is None:  # closed while waiting
                return
            changes = subscriber.take_queued(change)
            # A reload reloads the table too (its trigger listens for both).
            tell = (table.changed(user for user, _ in filter(None, changes))
                    if table is not None and changes != [None] else None)
            self.write(event_text(changes, tell))
        await self.flush()

    def on_connection_close(self) -> None:
        if self.subscriber is not None:
            self.runtime.live.unsubscribe(self.subscriber)
            self.subscriber.queue.put_nowait(None)  # wake the loop so it sees the end
            self.subscriber = None


routes = [(r"/portal/events", EventStreamHandler)]
