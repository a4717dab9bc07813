"""Containers' counters read from cgroup files (portal/docker/cgroup_stats.py), on fake trees of
both cgroup versions and both Docker drivers, and the usage sampler's pass over them: every lab
on the hub's engine from one bulk read, Swarm tasks still one call each."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from portal.docker.cgroup_stats import CgroupCounters, system_cpu_ns
from portal.governance.container_stats import cpu_counters, cpus_busy, memory_in_use, memory_limit
from portal.governance.usage import Lab, UsageCollector
from tests.unit.test_usage_location import MIB, Engine, Node

CID = "ab" * 32


def v2_tree(root: Path, directory: str, limit: str = "536870912") -> Path:
    (root / "cgroup.controllers").write_text("cpu memory\n")
    where = root / directory
    where.mkdir(parents=True)
    (where / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    (where / "memory.current").write_text(f"{300 * MIB}\n")
    (where / "memory.max").write_text(f"{limit}\n")
    (where / "memory.stat").write_text(f"anon {200 * MIB}\ninactive_file {100 * MIB}\n")
    return where


def v1_tree(root: Path, directory: str) -> None:
    memory, cpu = root / "memory" / directory, root / "cpuacct" / directory
    memory.mkdir(parents=True)
    cpu.mkdir(parents=True)
    (cpu / "cpuacct.usage").write_text("7000000000\n")
    (memory / "memory.usage_in_bytes").write_text(f"{250 * MIB}\n")
    (memory / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # no limit
    (memory / "memory.stat").write_text(f"cache {90 * MIB}\ntotal_inactive_file {50 * MIB}\n")


@pytest.mark.parametrize("directory", [f"docker/{CID}", f"system.slice/docker-{CID}.scope"])
def test_cgroup_v2_counters_as_docker_reports_them(tmp_path, directory):
    v2_tree(tmp_path, directory)
    stats = CgroupCounters(tmp_path).stats(CID, system_ns=10**12, cpus=2)
    assert memory_in_use(stats) == 200 * MIB  # page cache (inactive files) left out
    assert memory_limit(stats) == 512 * MIB
    assert cpu_counters(stats) == (2_500_000_000, 10**12, 2)


def test_cgroup_v2_without_a_limit(tmp_path):
    v2_tree(tmp_path, f"docker/{CID}", limit="max")
    assert memory_limit(CgroupCounters(tmp_path).stats(CID, 1, 1)) == 0


@pytest.mark.parametrize("directory", [f"docker/{CID}", f"system.slice/docker-{CID}.scope"])
def test_cgroup_v1_counters_as_docker_reports_them(tmp_path, directory):
    v1_tree(tmp_path, directory)
    stats = CgroupCounters(tmp_path).stats(CID, system_ns=5, cpus=4)
    assert memory_in_use(stats) == 200 * MIB
    assert memory_limit(stats) == 0
    assert cpu_counters(stats) == (7_000_000_000, 5, 4)


def test_a_container_not_in_the_tree_has_no_counters(tmp_path):
    v2_tree(tmp_path, f"docker/{CID}")
    assert CgroupCounters(tmp_path).stats("cd" * 32, 1, 1) is None
    assert CgroupCounters(tmp_path / "nowhere").stats(CID, 1, 1) is None


def test_two_reads_give_the_cpus_busy_between_them(tmp_path):
    where = v2_tree(tmp_path, f"docker/{CID}")
    counters = CgroupCounters(tmp_path)
    before = cpu_counters(counters.stats(CID, system_ns=10**12, cpus=2))
    (where / "cpu.stat").write_text("usage_usec 3500000\n")  # one more CPU-second
    after = cpu_counters(counters.stats(CID, system_ns=10**12 + 4 * 10**9, cpus=2))
    assert cpus_busy(before, after) == pytest.approx(0.5)  # 1 s over 2 CPUs x 2 s


def test_the_host_cpu_counter_grows():
    assert 0 < system_cpu_ns() <= system_cpu_ns()


class BulkEngine(Engine):
    """An engine whose labs the hub reads from cgroup files: one bulk read, no call per lab."""

    def __init__(self, running: dict[str, int]) -> None:
        super().__init__(running)
        self.bulk_reads = 0

    async def stats_in_bulk(self, names: list[str]) -> dict[str, dict]:
        self.bulk_reads += 1
        return {name: (await Engine.stats_once(self, name)) for name in names
                if name in self.running}


def test_a_pass_reads_the_engines_labs_in_bulk_and_swarm_tasks_one_by_one():
    async def run() -> None:
        hub = BulkEngine({"lab-a": 100 * MIB, "lab-b": 150 * MIB})
        node_engine = Engine({"task-c": 200 * MIB})
        collector = UsageCollector(hub, interval=5)  # type: ignore[arg-type]
        labs = [Lab("a", "lab-a"), Lab("b", "lab-b"), Lab("gone", "lab-gone"),
                Lab("c", "lab-c", locate=Node(node_engine, "task-c").locate)]
        await collector.collect(labs)
        assert hub.bulk_reads == 1
        assert {k: u.memory for k, u in collector.all().items()} == {
            "a": 100 * MIB, "b": 150 * MIB, "c": 200 * MIB}
        assert node_engine.calls == 1  # the Swarm task: its own call

    asyncio.run(run())


def test_a_failed_bulk_read_keeps_the_last_samples():
    async def run() -> None:
        hub = BulkEngine({"lab-a": 100 * MIB})
        collector = UsageCollector(hub, interval=5)  # type: ignore[arg-type]
        await collector.collect([Lab("a", "lab-a")])
        hub.down = True
        first = collector.get("a")
        await collector.collect([Lab("a", "lab-a")])
        assert collector.get("a") is first  # aging, not dropped and not zero

    asyncio.run(run())
