"""The usage sampler's bulk read on the real engine: a running container's counters from the
host's cgroup files agree with Docker's own one-shot stats of it, a container that stopped is
left out, and a tree without the engine's containers makes the sampler use Docker's stats."""

from __future__ import annotations

import asyncio
import uuid

import docker
import pytest

from portal.docker.service import DockerService
from portal.governance.container_stats import cpu_counters, memory_in_use, memory_limit
from tests.support.hub import PREFIX

MIB = 1024**2


@pytest.fixture
def container():
    client = docker.from_env()
    name = f"{PREFIX}cgroup-{uuid.uuid4().hex[:8]}"
    # A process that holds 64 MiB and keeps a CPU a little busy: both counters move.
    script = ("b = bytearray(64 * 2**20)\nimport time\n"
              "while True: sum(range(20000)); time.sleep(0.05)")
    made = client.containers.run("dshub-lab-standin:latest", ["python3", "-c", script],
                                 name=name, detach=True, network_mode="host",
                                 mem_limit="256m")
    try:
        yield made
    finally:
        made.remove(force=True)


def test_cgroup_counters_agree_with_dockers_stats(container):
    async def run() -> None:
        service = DockerService()
        service.cgroup_root = "/sys/fs/cgroup"
        await asyncio.sleep(1.5)  # the bytearray is allocated
        bulk = await service.stats_in_bulk([container.name, f"{PREFIX}cgroup-no-such"])
        assert bulk is not None and set(bulk) == {container.name}
        ours = bulk[container.name]
        dockers = await service.stats_once(container.name)
        assert memory_limit(ours) == memory_limit(dockers) == 256 * MIB
        assert memory_in_use(ours) > 60 * MIB
        assert abs(memory_in_use(ours) - memory_in_use(dockers)) < 8 * MIB
        ours_cpu, dockers_cpu = cpu_counters(ours), cpu_counters(dockers)
        assert 0 < ours_cpu[0] <= dockers_cpu[0]  # read first; the counter only grows
        assert dockers_cpu[0] - ours_cpu[0] < 2 * 10**9
        assert ours_cpu[2] == dockers_cpu[2]  # the same CPUs counted
        # The host's counter is Docker's too (same ticks of /proc/stat), up to the delay.
        assert 0 <= dockers_cpu[1] - ours_cpu[1] < 20 * 10**9

        container.stop(timeout=1)
        assert await service.stats_in_bulk([container.name]) == {}

    asyncio.run(run())


def test_a_tree_without_the_engines_containers_falls_back_to_dockers_stats(container, tmp_path):
    async def run() -> None:
        service = DockerService()
        service.cgroup_root = str(tmp_path)  # an empty tree: not the engine host's
        for _ in range(3):
            assert await service.stats_in_bulk([container.name]) is None
        assert service._cgroups is False  # given up: every later pass asks Docker at once

    asyncio.run(run())
