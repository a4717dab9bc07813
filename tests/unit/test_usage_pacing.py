"""A usage pass spreads its Docker calls: never a burst over every lab at once.

Time is a fake clock that moves only when the pacer sleeps, so the spacing is checked exactly,
however busy the machine running the tests is.
"""

from __future__ import annotations

import asyncio

import pytest

from portal.governance.usage import MAX_GAP, MIN_GAP, SPREAD, Lab, UsageCollector
from tests.unit.test_usage_location import MIB, stats

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


class FakeClock:
    """The pacer's clock: `late[n]` seconds are added to the n-th sleep (a busy loop's late
    wake-up)."""

    def __init__(self, late: dict[int, float] | None = None) -> None:
        self.now, self.sleeps, self.late = 0.0, 0, late or {}

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        await asyncio.sleep(0)  # what was started before this sleep runs at its own time
        self.now += seconds + self.late.get(self.sleeps, 0.0)


class TimedEngine:
    """Records when each one-shot stats call began (on the fake clock)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock, self.started = clock, []

    async def stats_in_bulk(self, names: list[str]) -> None:
        return None  # a hub that cannot read the host's cgroup files: one call per lab

    async def stats_once(self, name: str) -> dict:
        self.started.append(self.clock.time())
        return stats(100 * MIB)


def gaps_of_a_pass(labs: int, interval: float, clock: FakeClock) -> list[float]:
    async def run() -> list[float]:
        engine = TimedEngine(clock)
        collector = UsageCollector(engine, interval=interval, clock=clock)  # type: ignore[arg-type]
        await collector.collect([Lab(f"u{i}", f"lab-{i}") for i in range(labs)])
        assert len(collector.all()) == labs
        return engine.started

    started = asyncio.run(run())
    assert len(started) == labs
    return [b - a for a, b in zip(started, started[1:], strict=False)]


def test_many_labs_are_spread_over_half_the_interval():
    gaps = gaps_of_a_pass(labs=100, interval=8.0, clock=FakeClock())
    gap = SPREAD * 8.0 / 100  # 40 ms apart, over half the interval
    assert gaps == pytest.approx([gap] * 99)
    assert sum(gaps) == pytest.approx(SPREAD * 8.0 - gap)


def test_very_many_labs_are_never_sampled_faster_than_the_bound():
    """2,000 labs at 30 s: 25 calls a second at most, the pass longer than the interval."""
    gaps = gaps_of_a_pass(labs=2000, interval=30.0, clock=FakeClock())
    assert gaps == pytest.approx([MIN_GAP] * 1999)
    assert sum(gaps) > 30.0


def test_a_few_labs_are_sampled_quickly():
    gaps = gaps_of_a_pass(labs=5, interval=30.0, clock=FakeClock())
    assert gaps == pytest.approx([MAX_GAP] * 4)  # not 3 s apart: at most MAX_GAP


def test_a_late_wake_does_not_catch_up_in_a_burst():
    """The loop was held for 30 ms during a pass: the samples it delayed keep their spacing."""
    gaps = gaps_of_a_pass(labs=100, interval=8.0, clock=FakeClock(late={3: 0.03}))
    gap = SPREAD * 8.0 / 100
    assert max(gaps) == pytest.approx(gap + 0.03)  # the hold happened, once
    assert min(gaps) == pytest.approx(gap)  # and no two samples closer than the gap after it
