"""A usage pass spreads its Docker calls: never a burst over every lab at once."""

from __future__ import annotations

import asyncio
import time

from portal.usage import MAX_GAP, SPREAD, Lab, UsageCollector
from tests.unit.test_usage_location import MIB, stats


class TimedEngine:
    """Records when each one-shot stats call began (event-loop time)."""

    def __init__(self) -> None:
        self.started: list[float] = []

    async def stats_once(self, name: str) -> dict:
        self.started.append(asyncio.get_running_loop().time())
        return stats(100 * MIB)


def pass_over(labs: int, interval: float) -> list[float]:
    async def run() -> list[float]:
        engine = TimedEngine()
        collector = UsageCollector(engine, interval=interval)  # type: ignore[arg-type]
        await collector.collect([Lab(f"u{i}", f"lab-{i}") for i in range(labs)])
        assert len(collector.all()) == labs
        return engine.started

    return asyncio.run(run())


def bursts(started: list[float], window: float = 0.004) -> list[int]:
    """Where three samples began within `window` (two may: one catching up after a late
    wake of a busy loop)."""
    return [i for i in range(len(started) - 2) if started[i + 2] - started[i] < window]


def test_many_labs_are_spread_over_half_the_interval():
    started = pass_over(labs=100, interval=1.0)  # 5 ms apart, over 0.5 s
    assert not bursts(started)
    # Late wakes on a busy machine add a little each (99 sleeps); a burst would be near 0.
    assert 0.45 <= started[-1] - started[0] <= SPREAD * 1.0 + 1.5


def test_a_few_labs_are_sampled_quickly():
    started = pass_over(labs=5, interval=30.0)  # not 3 s apart: MAX_GAP
    assert started[-1] - started[0] < 4 * MAX_GAP + 0.5  # 30 s apart would be 120 s


def test_a_late_wake_does_not_catch_up_in_a_burst():
    """The loop was held for 30 ms during a pass: no burst of the samples it delayed."""

    async def run() -> list[float]:
        engine, held = TimedEngine(), []

        async def stats_once(name: str) -> dict:
            if len(engine.started) == 3 and not held:
                held.append(True)
                time.sleep(0.03)  # noqa: ASYNC251 (holds the loop, as a slow callback would)
            return await TimedEngine.stats_once(engine, name)

        engine.stats_once = stats_once  # type: ignore[method-assign]
        collector = UsageCollector(engine, interval=1.0)  # type: ignore[arg-type]
        await collector.collect([Lab(f"u{i}", f"lab-{i}") for i in range(100)])
        return engine.started

    started = asyncio.run(run())
    gaps = [b - a for a, b in zip(started, started[1:], strict=False)]
    assert max(gaps) >= 0.03  # the hold happened
    assert not bursts(started), sorted(gaps)[:5]
