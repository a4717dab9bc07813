"""Long walks on the event loop give other tasks a turn every so many items."""

from __future__ import annotations

import asyncio

import pytest

from portal.platform.pacing import with_turns

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


def test_a_walk_yields_every_item_and_lets_others_run_between_chunks():
    async def run() -> tuple[list[int], list[int]]:
        seen: list[int] = []
        ticks: list[int] = []  # how far the walk was each time another task got a turn

        async def other() -> None:
            while len(seen) < 250:
                ticks.append(len(seen))
                await asyncio.sleep(0)

        ticker = asyncio.create_task(other())
        await asyncio.sleep(0)  # the other task is waiting for its turn
        async for item in with_turns(range(250), 100):
            seen.append(item)
        await ticker
        return seen, ticks

    seen, ticks = asyncio.run(run())
    assert seen == list(range(250))
    assert {100, 200} <= set(ticks)  # a turn after each chunk of 100, none inside one
    assert all(t % 100 == 0 for t in ticks[:3])
