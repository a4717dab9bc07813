"""Owns the server-sent event stream each open portal page listens to (htmx SSE extension).

A user's stream names only their own server; an admin's (`admin-ui`) names everyone's. Events:
`card-<escaped name>` (that card reloads itself) and, for admins, `users-changed` (the user
table reloads its rows). A comment line every HEARTBEAT seconds keeps proxies from closing it.
"""

from __future__ import annotations

import asyncio

from tornado.iostream import StreamClosedError

from ..operations.live_updates import Subscriber
from .base import PortalHandler, portal_authenticated

HEARTBEAT = 15.0


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
            if change is None:
                self.write("event: reload\ndata: all\n\n")
            elif change[1]:  # "": a user whose card name is unknown here (the table only)
                self.write(f"event: card-{change[1]}\ndata: {change[1]}\n\n")
            if subscriber.sees_everyone:
                self.write("event: users-changed\ndata: 1\n\n")
        await self.flush()

    def on_connection_close(self) -> None:
        if self.subscriber is not None:
            self.runtime.live.unsubscribe(self.subscriber)
            self.subscriber.queue.put_nowait(None)  # wake the loop so it sees the end
            self.subscriber = None


routes = [(r"/portal/events", EventStreamHandler)]
