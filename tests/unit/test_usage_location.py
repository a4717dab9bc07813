"""The usage sampler's rules for labs located elsewhere (Swarm), with stand-ins for Docker:
located once and remembered, located again when a restart replaced the container, a failure
keeps the old sample, and the hub engine's volume sizes are not shown for another node."""

from __future__ import annotations

import asyncio

import pytest

from portal.docker.types import ContainerMissing, DockerUnavailable
from portal.governance.usage import Lab, UsageCollector
from portal.lab.volume_names import UserVolume

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

MIB = 1024**2


def stats(memory: int) -> dict:
    return {"memory_stats": {"usage": memory, "limit": 512 * MIB, "stats": {}},
            "cpu_stats": {"cpu_usage": {"total_usage": 1}, "system_cpu_usage": 1,
                          "online_cpus": 1}}


class Engine:
    """A Docker engine that knows some running containers (name -> memory in use)."""

    def __init__(self, running: dict[str, int]) -> None:
        self.running, self.calls, self.down = running, 0, False

    async def stats_in_bulk(self, names: list[str]) -> None:
        return None  # a hub that cannot read the host's cgroup files: one call per lab

    async def stats_once(self, name: str) -> dict:
        self.calls += 1
        if self.down:
            raise DockerUnavailable("node is unreachable")
        if name in self.running:
            return stats(self.running[name])
        if name.startswith("old-"):
            return {"memory_stats": {}}  # exited, not removed (Swarm keeps old tasks)
        raise ContainerMissing(name)


class Node:
    """The spawner's locator: the node's engine and the current task's container."""

    def __init__(self, engine: Engine, container: str) -> None:
        self.engine, self.container, self.calls = engine, container, 0

    async def locate(self, hub: object) -> tuple[Engine, str]:
        self.calls += 1
        return self.engine, self.container


def test_a_located_lab_is_found_once_then_again_after_a_restart():
    async def run() -> None:
        hub, node_engine = Engine({"lab-a": 100 * MIB}), Engine({"c1": 200 * MIB})
        node = Node(node_engine, "c1")
        volume = UserVolume("home", "lab-b_home", "/home", "home")
        collector = UsageCollector(hub, interval=5)  # type: ignore[arg-type]
        labs = [Lab("a", "lab-a"), Lab("b", "lab-b", (volume,), node.locate)]
        collector._volume_sizes = {"lab-b_home": 999}  # the hub engine's volume of that name
        await collector.collect(labs)
        await collector.collect(labs)
        assert collector.get("a").memory == 100 * MIB and hub.calls == 2  # no lookup
        assert collector.get("b").memory == 200 * MIB and node.calls == 1
        assert collector.get("b").volumes == {"home": None}  # not the hub engine's size
        # A restart: the old container is kept exited, the new one runs.
        node_engine.running = {"c2": 300 * MIB}
        node.container = "old-c1"
        await collector.collect(labs)  # the stored one reports no memory: located again
        assert node.calls == 2 and "b" in collector.all()
        node.container = "c2"
        await collector.collect(labs)
        assert collector.get("b").memory == 300 * MIB and node.calls == 3
        # The node stops answering: the old sample stays (and ages), the location is kept.
        node_engine.down = True
        before = collector.get("b")
        await collector.collect(labs)
        assert collector.get("b") is before and node.calls == 3
        # Stopped: forgotten.
        await collector.collect(labs[:1])
        assert collector.get("b") is None and "b" not in collector._located

    asyncio.run(run())


def test_memory_not_measured_yet_is_not_zero():
    """A container that just started answers with empty memory stats: the card must say "not
    measured yet", never "memory 0 B"."""

    class Fresh(Engine):
        async def stats_once(self, name: str) -> dict:
            return {"memory_stats": {}, "cpu_stats": {}}

    async def run() -> None:
        collector = UsageCollector(Fresh({}), interval=5)  # type: ignore[arg-type]
        await collector.collect([Lab("a", "lab-a")])
        assert collector.get("a").memory is None
        assert collector.get("a").as_json()["memory_bytes"] is None

    asyncio.run(run())
