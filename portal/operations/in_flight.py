"""Owns per-user operations in flight (start, restart, volume reset) and their last outcome.

The hub is one process with one event loop, so a dict guarded by that loop is enough: checks and
claims happen without an `await` between them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, Literal

from .action_names import ServerAction
from .states import OperationKind

# Not an action: the lab ended by itself (portal/governance/lab_exits.py); the card shows a
# stopped server with the reason.
EXITED: Final = "exited"
OutcomeKind = ServerAction | Literal["exited"]


def server_key(user: str, server: str = "") -> str:
    """What operations are keyed by: the user's name for their default server, `user/server`
    for a named one (no user name holds a `/`)."""
    return f"{user}/{server}" if server else user


def key_parts(key: str) -> tuple[str, str]:
    """`server_key`'s inverse: (user, server name, "" for the default server)."""
    user, _, server = key.partition("/")
    return user, server


class Busy(Exception):
    """Another operation holds this user's server or volumes."""

    def __init__(self, user: str, kind: OperationKind) -> None:
        super().__init__(f"{kind} is already in progress for {user}")
        self.user = user
        self.kind = kind


@dataclass
class Operation:
    kind: OperationKind
    started: float = field(default_factory=time.monotonic)


@dataclass
class Outcome:
    """What the last operation left for the card to say (a failure reason, for instance)."""

    kind: OutcomeKind  # what was attempted (a start, a restart), or EXITED
    ok: bool
    message: str
    at: float = field(default_factory=time.time)


class Operations:
    def __init__(self) -> None:
        self._running: dict[str, Operation] = {}
        self._last: dict[str, Outcome] = {}
        # Told the user's name when an operation begins or ends (pushed updates).
        self.listener: Callable[[str], None] | None = None

    def current(self, user: str) -> Operation | None:
        return self._running.get(user)

    def last(self, user: str) -> Outcome | None:
        return self._last.get(user)

    def forget(self, user: str) -> None:
        self._last.pop(user, None)

    def acquire(self, user: str, kind: OperationKind | str) -> Operation:
        """Hold `user` for `kind`; raise Busy if something else already does."""
        kind = OperationKind(kind)  # an unknown kind is a programming error (ValueError)
        running = self._running.get(user)
        if running is not None:
            raise Busy(user, running.kind)
        op = self._running[user] = Operation(kind)
        self._tell(user)
        return op

    def release(self, user: str) -> None:
        if self._running.pop(user, None) is not None:
            self._tell(user)

    def _tell(self, key: str) -> None:
        if self.listener is not None:
            self.listener(key.split("/", 1)[0])  # the user, whose cards and row may show it

    @contextmanager
    def claim(self, user: str, kind: OperationKind | str) -> Iterator[Operation]:
        op = self.acquire(user, kind)
        try:
            yield op
        finally:
            self.release(user)

    def record(self, user: str, kind: OutcomeKind, ok: bool, message: str) -> None:
        self._last[user] = Outcome(kind, ok, message)

    def start_refusal(self, user: str) -> str | None:
        """Why a server may not start now, whoever asks (portal, /hub/spawn, REST), or None."""
        op = self._running.get(user)
        if op is not None and op.kind is OperationKind.RESETTING_VOLUMES:
            return "Your volumes are being reset; start again when that finishes."
        return None
