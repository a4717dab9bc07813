"""Owns the Docker call the usage sampler makes for each running lab and pass: one sample of a
container's counters, over the engine's Unix socket without docker-py where it can
(socket_stats.py: a tenth of the CPU), through docker-py otherwise (a Swarm node over TCP).

A mixin of DockerService (portal/docker/service.py), which provides `_api()` and `_run()`
(calls.py): the same pool, bound and errors as every other call.
"""

from __future__ import annotations

from typing import Any

from docker.errors import NotFound

from .calls import EngineCalls
from .socket_pool import unix_socket_path
from .socket_stats import SocketStats
from .types import ContainerMissing


class DockerStats(EngineCalls):
    timeout: float
    _stats_reader: SocketStats | bool | None = None  # False: the engine is not on a socket

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
