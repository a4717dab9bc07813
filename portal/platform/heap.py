"""Owns the hub's garbage-collection policy: a full collection walks only what is new.

A full (generation-2) collection walks every tracked object that is not frozen. A hub with
thousands of users holds hundreds of thousands of long-lived objects (users, spawners and their
traits, ORM rows), most of them made after start as people sign in and servers start; each full
collection then held the event loop for 100-250 ms, during a broadcast or a usage pass
(docs/benchmarks.md, sections 3 and 10). So the survivors of the start-up are frozen
(`gc.freeze`), and so, later, are the survivors of a full collection the event loop makes itself
once the interpreter's own policy ran one: the next full collection walks only the objects made
since.

Everything here runs on the event loop, between two of its callbacks, never from inside the
collector: no `gc.callbacks` entry. On Python 3.11 a collection starts inside whatever
allocation crosses the threshold, in any thread (a Docker or database worker included), and a
Python callback then runs at that allocation site, often mid-way through C code that does not
expect Python to run there (frame, context-variable and C-extension states; CPython issues
94262, 97002, 99729, 106092). A hub that froze from such a callback died with SIGSEGV while
starting.

The price, accepted: a reference cycle among frozen objects that becomes garbage later is never
reclaimed (reference counting still frees everything that is not in a cycle). The hub keeps its
users and spawners for its whole life, so little of that ever happens.
"""

from __future__ import annotations

import asyncio
import gc

from .logs import portal_logger

log = portal_logger()

# How often the event loop looks whether the interpreter made a full collection since the last
# freeze (then it collects and freezes once itself). Objects made meanwhile are walked by the
# full collections of one interval. Shorter is not free: a freeze also keeps whatever cycle is
# alive at that moment (an answer in flight) from ever being collected, so each look that
# freezes may keep a little garbage for good. With the tests' 5 s intervals a hub with 3,000
# servers made 100-200 ms collections in its first minute (1 s looks: fewer); with
# production's 30 s the benchmark met its goals at 60 s (docs/benchmarks.md, section 16).
CHECK_INTERVAL = 60.0  # seconds


def _full_collections() -> int:
    return gc.get_stats()[2]["collections"]


class FreezePolicy:
    """Freezes the survivors of the start-up, then of a full collection after each one the
    interpreter ran on its own; called on the event loop only."""

    def __init__(self) -> None:
        self.seen = -1  # full collections counted at the last freeze (-1: never frozen)

    def freeze_survivors(self) -> int:
        """Collect everything, freeze what survived; how many objects are frozen in all."""
        gc.collect()
        gc.freeze()
        # Counted after our own collection: only a later one, by the interpreter, is news.
        self.seen = _full_collections()
        return gc.get_freeze_count()

    def freeze_if_collected(self) -> bool:
        """After a full collection the interpreter ran since the last freeze: collect and
        freeze the survivors (this collection walks only the unfrozen objects). True if done."""
        if self.seen >= 0 and _full_collections() <= self.seen:
            return False
        self.freeze_survivors()
        return True

    async def run(self, interval: float = CHECK_INTERVAL) -> None:
        """Freeze now, then look every `interval` seconds (a background task of the hub)."""
        frozen = self.freeze_survivors()
        log.info("Froze %d start-up objects (full collections skip them)", frozen)
        while True:
            await asyncio.sleep(interval)
            self.freeze_if_collected()
