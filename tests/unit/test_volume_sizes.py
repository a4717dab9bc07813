"""The size cache's rules with a stand-in for Docker: one measurement in flight, at most one
per max_age, the age reported, removed volumes forgotten."""

from __future__ import annotations

import asyncio

import pytest

from portal.lab.volume_sizes import VolumeSizes
from portal.platform.tasks import wait_until

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


class SlowDocker:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def volume_usage(self) -> dict[str, int]:
        self.calls += 1
        await self.release.wait()
        return {"a": 10, "b": 20}


async def test_one_measurement_serves_everyone_and_is_repeated_only_when_old():
    docker = SlowDocker()
    now = [1000.0]  # the injected clock: the test moves time, it never waits for it
    sizes = VolumeSizes(docker, max_age=2.0, first_wait=0.05,  # type: ignore[arg-type]
                        clock=lambda: now[0])
    # 50 openings while the first measurement runs: one computation, nothing to show yet.
    early = await asyncio.gather(*(sizes.current() for _ in range(50)))
    assert docker.calls == 1
    assert all(s.age_s is None and s.measuring and s.by_name == {} for s in early)
    docker.release.set()
    assert await wait_until(lambda: sizes.measurements == 1, 5, 0.001)
    fresh = await sizes.current()
    assert fresh.by_name == {"a": 10, "b": 20} and fresh.age_s == 0.0 and not fresh.measuring
    now[0] += 1.9
    for _ in range(20):
        await sizes.current()
    assert docker.calls == 1  # still fresh: no new measurement
    now[0] += 0.2
    stale = await sizes.current()  # old: served at once with its age, one refresh starts
    assert stale.age_s is not None and stale.age_s >= 2.0 and stale.by_name["a"] == 10
    assert await wait_until(lambda: docker.calls == 2, 5, 0.001)
    sizes.forget(["a"])
    assert "a" not in (await sizes.current()).by_name
