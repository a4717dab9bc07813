"""Owns how the usage sampler gets running labs' counters from an engine: for many at once from
the host's cgroup files after one listing where the hub can read them (cgroup_stats.py: no call
per lab), else one sample per lab over the engine's Unix socket without docker-py
(socket_stats.py: a tenth of the CPU), through docker-py otherwise (a Swarm node over TCP).

A mixin of DockerService (portal/docker/service.py), which provides `_api()` and `_run()`
(calls.py): the same pool, bound and errors as every other call.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from docker.errors import NotFound

from ..platform.logs import portal_logger
from .calls import EngineCalls
from .cgroup_stats import CgroupCounters, system_cpu_ns
from .socket_pool import unix_socket_path
from .socket_stats import SocketStats
from .types import ContainerMissing

log = portal_logger("usage")
# cgroup reads per hand-off to a thread, the loop's turn between: a thread busy for longer
# makes each of the loop's requests wait for the interpreter lock, turn after turn.
BULK_CHUNK = 50


class DockerStats(EngineCalls):
    timeout: float
    _stats_reader: SocketStats | bool | None = None  # False: the engine is not on a socket
    # Where the engine host's cgroup tree is mounted ("": never read it; DOCKER_CGROUP_ROOT).
    cgroup_root: str = ""
    _cgroups: CgroupCounters | bool | None = None  # False: the tree lacks the containers
    _cgroup_misses = 0  # passes that found none of their labs there; -1: some were found

    async def stats_in_bulk(self, names: Sequence[str]) -> dict[str, dict[str, Any]] | None:
        """One sample of each running container of `names` (by name; a name not running is
        left out) from the cgroup files; None where this hub cannot read them."""
        if self._cgroups is False or not self.cgroup_root or not names:
            return None
        running = await self._run(self._running_ids, bound=10)
        if running is None:
            return None
        wanted = [(name, running[name]) for name in names if name in running]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), BULK_CHUNK):
            found.update(await self._run(self._read_cgroups, wanted[start:start + BULK_CHUNK],
                                         bound=10))
        if found:
            self._cgroup_misses = -1  # the tree holds the engine's containers
        elif wanted and self._cgroup_misses >= 0:  # none there: not this host's tree?
            self._cgroup_misses += 1
            if self._cgroup_misses >= 3:  # three passes: not a lab removed while read
                log.info("No container's cgroup under %s: usage through Docker's stats",
                         self.cgroup_root)
                self._cgroups = False
            return None
        return found

    def _running_ids(self) -> dict[str, str] | None:
        """Running containers' IDs by name, from one listing; None on a TCP engine."""
        if unix_socket_path(self._api()) is None:  # another host's cgroups are not ours
            self._cgroups = False
            return None
        return {n.lstrip("/"): c["Id"] for c in self._api().containers(
            filters={"status": "running"}) for n in c.get("Names") or ()}

    def _read_cgroups(self, wanted: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
        if not isinstance(self._cgroups, CgroupCounters):
            self._cgroups = CgroupCounters(self.cgroup_root)
        cgroups, system = self._cgroups, system_cpu_ns()
        cpus = os.sysconf("SC_NPROCESSORS_ONLN")
        found = {}
        for name, container_id in wanted:
            stats = cgroups.stats(container_id, system, cpus)
            if stats is not None:
                found[name] = stats
        return found

    async def stats_once(self, name: str) -> dict[str, Any]:
        """One sample of a container's CPU and memory counters (no wait for a second one)."""

        def sample() -> dict[str, Any]:
            reader = self._socket_stats()
            if reader is not None:
                return reader.stats(name)
            try:
                return self._api().stats(name, stream=False, one_shot=True)
            except NotFound:
                raise ContainerMissing(name) from None

        return await self._run(sample, bound=10)

    def _socket_stats(self) -> SocketStats | None:
        if self._stats_reader is None:
            api = self._api()
            path = unix_socket_path(api)
            self._stats_reader = (SocketStats(path, api.api_version, self.timeout) if path
                                  else False)
        return self._stats_reader or None
