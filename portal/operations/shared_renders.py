"""Owns sharing a rendered fragment between open pages while no change was published (the admin
table's rows: one render for every admin page reloading them)."""

from __future__ import annotations

import time
from collections.abc import Callable

SHARED_SECONDS = 1.0  # the longest a shared render serves (htmx reloads at most once a second)
SHARED_MOST = 64  # distinct views kept


class SharedRenders:
    """The table's rows as rendered, shared by every admin page reloading the same view while
    nothing changed. Each open admin page reloads its rows on a pushed change: 100 pages cost
    100 renders of the same HTML, 30 CPU-seconds in 30 s, more than polling every 10 s
    (benchmarks/hub_scale.py); shared, one render each time something changes.

    An entry serves only at the `generation` of pushed changes it was rendered at (any change
    since makes it stale at once) and for `seconds` at most (usage samples and activity change
    without an event). The HTML names no viewer: every admin may be served another's."""

    def __init__(self, seconds: float = SHARED_SECONDS, most: int = SHARED_MOST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.most, self.clock = seconds, most, clock
        self._entries: dict[str, tuple[int, float, str]] = {}  # view -> (generation, at, html)
        self.hits = 0

    def get(self, generation: int, view: str) -> str | None:
        entry = self._entries.get(view)
        if entry is None or entry[0] != generation or self.clock() - entry[1] > self.seconds:
            return None
        self.hits += 1
        return entry[2]

    def put(self, generation: int, view: str, html: str) -> None:
        """Keep `html`, rendered from the state at `generation` (read before rendering)."""
        now = self.clock()
        if len(self._entries) >= self.most:
            self._entries = {v: e for v, e in self._entries.items()
                             if e[0] == generation and now - e[1] <= self.seconds}
            if len(self._entries) >= self.most:
                self._entries.clear()
        self._entries[view] = (generation, now, html)
