"""Owns spacing out bursts on the event loop: starts handed out a minimum gap apart, and long
walks that give the loop a turn every so many items.

The event loop runs every callback that is ready before it looks at the network again. A
hundred requests started at once (a broadcast's first batch, a usage pass's Docker calls) make
one long turn of the loop, and every page and health check waits behind it. Spaced a fraction
of a millisecond apart, the same work takes about as long and the loop keeps answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """Time as the pacer sees it: the event loop's in production, a fake one in unit tests
    (which then check the spacing exactly, however busy the machine running them is)."""

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's clock."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


LOOP_CLOCK = LoopClock()


async def with_turns(items: Iterable[T], every: int) -> AsyncIterator[T]:
    """`items`, giving the event loop a turn after every `every` of them (a long synchronous
    walk over thousands of users would hold every page and health check meanwhile)."""
    for i, item in enumerate(items):
        if i and i % every == 0:
            await asyncio.sleep(0)
        yield item


class Pacer:
    """Start times at least `gap` seconds apart, shared by every task that asks for a turn."""

    def __init__(self, gap: float, clock: Clock = LOOP_CLOCK) -> None:
        self.gap = gap
        self.clock = clock
        self._next = 0.0  # clock time of the next free turn

    async def turn(self) -> None:
        """Wait for this caller's turn (at once when the last turn is `gap` or longer ago)."""
        now = self.clock.time()
        at = max(now, self._next)
        self._next = at + self.gap
        if at > now:
            await self.clock.sleep(at - now)
            # Woken late (a busy loop): the next turn keeps its distance from now, instead of
            # catching up on the schedule in a burst.
            self._next = max(self._next, self.clock.time() + self.gap)
