"""A usage pass spreads its Docker calls: never a burst over every lab at once."""

from __future__ import annotations

import asyncio

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


def test_many_labs_are_spread_over_half_the_interval():
    started = pass_over(labs=100, interval=1.0)  # 5 ms apart, over 0.5 s
    gaps = [b - a for a, b in zip(started, started[1:], strict=False)]
    assert min(gaps) >= 0.004
    assert 0.45 <= started[-1] - started[0] <= SPREAD * 1.0 + 0.1


def test_a_few_labs_are_sampled_quickly():
    started = pass_over(labs=5, interval=30.0)  # not 3 s apart: MAX_GAP
    assert started[-1] - started[0] < 4 * MAX_GAP + 0.1
