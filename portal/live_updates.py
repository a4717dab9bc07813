"""Owns pushed updates: which user's server changed, told to every open stream allowed to see it.

One watcher compares each server the hub holds in memory (its pending/ready/failed state and the
portal's operation in flight) every `interval` seconds, so a change made anywhere (another tab,
the hub's admin page, the REST API, the culler) reaches open pages within about a second. Its
cost is one pass over the loaded users, without Docker or the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .logs import portal_logger
from .operations import Operations
from .upstream import spawn_failed

log = portal_logger("live")
QUEUE_BOUND = 100  # a stream that falls this far behind is told to reload everything


@dataclass(eq=False)  # each stream is itself (hashed by identity)
class Subscriber:
    """One open stream: the user it belongs to, whether it sees everyone, its queue."""

    user: str
    sees_everyone: bool
    # (user name, the spawner's escaped name) per change; None: reload everything shown.
    queue: asyncio.Queue[tuple[str, str] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_BOUND))

    def allowed(self, changed_user: str) -> bool:
        return self.sees_everyone or changed_user == self.user


def server_signature(user: Any, operations: Operations) -> tuple:
    """What a card shows, reduced to what changes it: compared, never displayed."""
    spawner = user.spawners.get("")
    op = operations.current(user.name)
    if spawner is None:
        return (op.kind if op else None,)
    return (op.kind if op else None, spawner.pending, spawner.ready, spawn_failed(spawner),
            getattr(spawner, "phase", ""))


class LiveUpdates:
    def __init__(self, operations: Operations, interval: float = 0.5) -> None:
        self.operations = operations
        self.interval = interval
        self._subscribers: set[Subscriber] = set()
        self._seen: dict[str, tuple] | None = None  # None: no baseline yet

    def subscribe(self, user: str, sees_everyone: bool) -> Subscriber:
        subscriber = Subscriber(user, sees_everyone)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def streams(self) -> int:
        return len(self._subscribers)

    def publish(self, changed_user: str, escaped_name: str) -> None:
        """Tell every stream allowed to see `changed_user` that its server changed."""
        for subscriber in list(self._subscribers):
            if subscriber.allowed(changed_user):
                try:
                    subscriber.queue.put_nowait((changed_user, escaped_name))
                except asyncio.QueueFull:  # a stalled stream: it reloads what it shows
                    subscriber.queue = asyncio.Queue(QUEUE_BOUND)
                    subscriber.queue.put_nowait(None)

    def compare(self, users: Iterator[Any]) -> list[str]:
        """One pass: the names whose signature changed since the last pass (published)."""
        loaded = list(users)
        current = {u.name: server_signature(u, self.operations) for u in loaded}
        # Event names use the spawner's escaped name, as the card's element id does.
        escaped = {u.name: getattr(u.spawners.get(""), "escaped_name", "") for u in loaded}
        seen, self._seen = self._seen, current
        if seen is None:  # the first pass only sets the baseline
            return []
        # Changed, newly loaded by the hub (a REST start), or let go of by it.
        changed = [n for n, sig in current.items() if seen.get(n) != sig]
        changed += [n for n in seen.keys() - current.keys()]
        for name in changed:
            self.publish(name, escaped.get(name, ""))
        return changed

    async def watch(self, loaded_users: Callable[[], Iterator[Any]]) -> None:
        """Compare forever (the hub's lifetime); only while someone is listening."""
        while True:
            if self._subscribers:
                self.compare(loaded_users())
            else:
                self._seen = None
            await asyncio.sleep(self.interval)
