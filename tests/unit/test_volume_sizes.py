"""The size cache's rules with a stand-in for Docker: one measurement in flight, at most one
per max_age, the age reported, removed volumes forgotten."""

from __future__ import annotations

import asyncio

from portal.volume_sizes import VolumeSizes


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
    sizes = VolumeSizes(docker, max_age=2.0, first_wait=0.05)  # type: ignore[arg-type]
    # 50 openings while the first measurement runs: one computation, nothing to show yet.
    early = await asyncio.gather(*(sizes.current() for _ in range(50)))
    assert docker.calls == 1
    assert all(s.age_s is None and s.measuring and s.by_name == {} for s in early)
    docker.release.set()
    await asyncio.sleep(0.01)
    fresh = await sizes.current()
    assert fresh.by_name == {"a": 10, "b": 20} and fresh.age_s is not None
    assert fresh.age_s < 2.0 and not fresh.measuring
    for _ in range(20):
        await sizes.current()
    assert docker.calls == 1  # still fresh: no new measurement
    await asyncio.sleep(2.05)
    stale = await sizes.current()  # old: served at once with its age, one refresh starts
    assert stale.age_s is not None and stale.age_s >= 2.0 and stale.by_name["a"] == 10
    await asyncio.sleep(0.01)
    assert docker.calls == 2
    sizes.forget(["a"])
    assert "a" not in (await sizes.current()).by_name
