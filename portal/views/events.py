"""Owns the server-sent event stream each open portal page listens to (htmx SSE extension).

A user's stream names only their own server; an admin's (`admin-ui`) names everyone's. Events:
`card-<escaped name>` (that card reloads itself) and, for admins, `users-changed` (the user
table reloads its rows). A comment line every HEARTBEAT seconds keeps proxies from closing it.

A stream writes at most every BATCH_GAP seconds: what was queued meanwhile goes out in one
write and one flush, each card once and `users-changed` once. One write and flush per change
per stream (500 admin pages, 100 changes: 50,000 on the loop) left streams behind until their
queues overflowed into "reload everything" (docs/benchmarks.md, section 15).
"""

from __future__ import annotations

import asyncio

from tornado.iostream import StreamClosedError

from ..operations.live_updates import Change, Subscriber
from .base import PortalHandler, portal_authenticated

HEARTBEAT = 15.0
BATCH_GAP = 0.25  # seconds between two writes of one stream


def event_text(changes: list[Change], sees_everyone: bool) -> str:
    """The events for a batch of changes (Subscriber.take_queued): one write."""
    if changes == [None]:
        text = "event: reload\ndata: all\n\n"
    else:  # "": a user whose card name is unknown here (the table only)
        text = "".join(f"event: card-{escaped}\ndata: {escaped}\n\n"
                       for _, escaped in filter(None, changes) if escaped)
    return text + ("event: users-changed\ndata: 1\n\n" if sees_everyone else "")


class EventStreamHandler(PortalHandler):
    subscriber: Subscriber | None = None

    @portal_authenticated
    async def get(self) -> None:
        user = self.current_user
        live = self.runtime.live
        own_card = getattr(user.spawner, "escaped_name", "")  # the element id of their card
        self.subscriber = live.subscribe(user.name, "admin-ui" in self.parsed_scopes, own_card)
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
        try:
            change = await asyncio.wait_for(subscriber.queue.get(), HEARTBEAT)
        except TimeoutError:
            self.write(": keep-alive\n\n")
        else:
            if self.subscriber is None:  # closed while waiting
                return
            self.write(event_text(subscriber.take_queued(change), subscriber.sees_everyone))
        await self.flush()

    def on_connection_close(self) -> None:
        if self.subscriber is not None:
            self.runtime.live.unsubscribe(self.subscriber)
            self.subscriber.queue.put_nowait(None)  # wake the loop so it sees the end
            self.subscriber = None


routes = [(r"/portal/events", EventStreamHandler)]
