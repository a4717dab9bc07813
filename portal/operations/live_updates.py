"""Owns pushed updates: which user's server changed, told to every open stream allowed to see it.

Nothing scans the users. Changes arrive as events: the spawner reports what the hub asks of it
(a start, a stop, a poll finding the lab gone: the `server_changed` hook, whoever asked: the
portal, the hub's admin page, the REST API, the culler), the portal's operations report when they
begin and end, and each audit event names its target. A server that changed is then followed
alone, its signature compared every `interval` seconds until nothing is pending, so the steps the
hub takes after the spawner returns (the lab answering, a failed start, the end of a stop) are
pushed too. The cost grows with the servers changing, not with the users loaded. Open cards still
check themselves once a minute, and every 3 s while an action is under way: the safety net,
should an event ever be missed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from ..audit.log import AuditEvent, EventKind
from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.tasks import in_background
from ..platform.upstream import HubSpawner, spawn_failed
from .in_flight import Operations
from .states import ServerChange

log = portal_logger("live")
# Open event streams (one per open portal page): per user, and on the whole hub.
MAX_STREAMS_PER_USER = 8
MAX_STREAMS = 2000
QUEUE_BOUND = 100  # a stream that falls this far behind is told to reload everything
FOLLOW_BOUND = 900.0  # seconds: longer than any start or stop the hub allows
# (user name, the spawner's escaped name: "" when unknown, then only the admin table reloads);
# None: reload everything shown.
Change = tuple[str, str] | None
# The "user" of a change to accounts or groups: any row of an admin's table may show it (no
# name holds a comma: portal/platform/user_names.py).
ANY_ROW = ","
# Audit events that change only their target's own row; any other may add, remove or move rows
# (an account made or deleted, a group's members, a limit or quota of a group).
ROW_ONLY = frozenset({
    EventKind.START, EventKind.STOP, EventKind.RESTART, EventKind.RECREATE,
    EventKind.VOLUME_RESET, EventKind.VOLUME_ARCHIVE, EventKind.CULL, EventKind.SERVER_EXITED,
    EventKind.SUDO, EventKind.PASSWORD_CHANGE, EventKind.PASSWORD_RESET,
    EventKind.ACCOUNT_DISABLED, EventKind.ACCOUNT_ENABLED, EventKind.TWO_FACTOR,
    EventKind.EMAIL_CHANGE, EventKind.QUOTA_WARNING, EventKind.SHARE, EventKind.SHARE_REVOKED,
    EventKind.SHARE_CODE, EventKind.SHARE_CODE_REVOKED, EventKind.IMAGE_UPDATE,
    EventKind.SERVER_ADDED, EventKind.SERVER_DELETED, EventKind.BROADCAST})


@dataclass(eq=False)  # each stream is itself (hashed by identity)
class Subscriber:
    """One open stream: the user it belongs to, their card's name, whether it sees everyone."""

    user: str
    sees_everyone: bool
    escaped: str = ""  # the spawner's escaped name of `user` (their own card's event)
    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(QUEUE_BOUND))

    def allowed(self, changed_user: str) -> bool:
        return self.sees_everyone or changed_user == self.user

    def take_queued(self, first: Change) -> list[Change]:
        """`first` and every change queued behind it, each once, in order; just [None] if one
        of them says "reload everything" (that covers the rest)."""
        changes = [first]
        while not self.queue.empty():
            changes.append(self.queue.get_nowait())
        if None in changes:
            return [None]
        return list(dict.fromkeys(changes))


def server_signature(spawner: HubSpawner, op_kind: str | None) -> tuple:
    """What a card shows, reduced to what changes it: compared, never displayed."""
    return (op_kind, spawner.pending, spawner.ready, spawn_failed(spawner),
            getattr(spawner, "phase", ""))


class LiveUpdates:
    def __init__(self, operations: Operations, interval: float = 0.2,
                 per_user: int = MAX_STREAMS_PER_USER, most: int = MAX_STREAMS) -> None:
        self.operations = operations
        self.interval = interval
        self.per_user, self.most = per_user, most
        self._subscribers: set[Subscriber] = set()
        self._per_user: dict[str, int] = {}  # open streams by user name
        self._escaped: dict[str, str] = {}  # user name -> escaped name, learnt from spawners
        self._spawners: dict[str, HubSpawner] = {}  # servers being followed, by user name
        self.generation = 0  # changes published so far: renders shared until the next one
        operations.listener = self.operation_changed

    def subscribe(self, user: str, sees_everyone: bool, escaped: str = "") -> Subscriber:
        """A new stream; refused (429) past `per_user` streams of one user or `most` in all.

        Each stream holds a connection, a queue and a place in every publish: without a cap
        one signed-in script could open thousands.
        """
        if self._per_user.get(user, 0) >= self.per_user:
            raise ActionRefused(f"{user} has {self.per_user} event streams open already (one "
                                "per open portal page): close a page and reload.", 429)
        if len(self._subscribers) >= self.most:
            raise ActionRefused(f"The hub has {self.most} event streams open: live updates are "
                                "paused for new pages; reload in a minute.", 429)
        subscriber = Subscriber(user, sees_everyone, escaped)
        self._subscribers.add(subscriber)
        self._per_user[user] = self._per_user.get(user, 0) + 1
        if escaped:
            self._escaped[user] = escaped
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber not in self._subscribers:
            return
        self._subscribers.discard(subscriber)
        left = self._per_user.pop(subscriber.user, 1) - 1
        if left:
            self._per_user[subscriber.user] = left

    @property
    def streams(self) -> int:
        return len(self._subscribers)

    @property
    def following(self) -> int:
        return len(self._spawners)

    def publish(self, changed_user: str, escaped_name: str = "") -> None:
        """Tell every stream allowed to see `changed_user` that its server changed."""
        self.generation += 1
        escaped_name = escaped_name or self._escaped.get(changed_user, "")
        for subscriber in list(self._subscribers):
            if not subscriber.allowed(changed_user):
                continue
            escaped = escaped_name or (subscriber.escaped if changed_user == subscriber.user
                                       else "")
            try:
                subscriber.queue.put_nowait((changed_user, escaped))
            except asyncio.QueueFull:  # a stalled stream: it reloads what it shows
                subscriber.queue = asyncio.Queue(QUEUE_BOUND)
                subscriber.queue.put_nowait(None)

    # --- event sources ----------------------------------------------------------------
    def server_changed(self, spawner: HubSpawner, change: ServerChange) -> None:
        """The spawner's hook: the hub started, stopped or found gone `spawner`'s server."""
        name = spawner.user.name
        escaped = getattr(spawner, "escaped_name", "")
        if escaped:
            self._escaped[name] = escaped
        log.debug("%s: %s", name, change)
        if not self._subscribers:
            return  # nobody listens; a page opened later renders the state it finds
        self.publish(name, escaped)
        if name not in self._spawners:
            self._spawners[name] = spawner
            in_background(self._follow(name, spawner), f"following {name}'s server")

    def operation_changed(self, user: str) -> None:
        """An operation of the portal on `user`'s server began or ended."""
        if self._subscribers:
            self.publish(user)

    def audited(self, event: AuditEvent) -> None:
        """An audit event (any action, by anyone): its target's row and card may show it."""
        if self._subscribers and event.target:
            self.publish(event.target)
            if event.kind not in ROW_ONLY:
                self.publish(ANY_ROW)  # admins' tables only (nobody else sees ",")

    async def _follow(self, name: str, spawner: HubSpawner) -> None:
        """Compare one server's signature until nothing is pending, publishing each change."""
        def signature() -> tuple:
            op = self.operations.current(name)
            return server_signature(spawner, op.kind if op else None)

        try:
            seen = signature()
            deadline = time.monotonic() + FOLLOW_BOUND
            while time.monotonic() < deadline:
                await asyncio.sleep(self.interval)
                now = signature()
                if now != seen:
                    seen = now
                    self.publish(name, getattr(spawner, "escaped_name", ""))
                if not spawner.pending and now[0] is None:
                    return
        finally:
            self._spawners.pop(name, None)
