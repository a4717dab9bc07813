"""Owns what DockerService's mixins (volumes.py, swarm.py, images.py, stats.py) call on it:
the engine's low-level client and one bounded call in a pool, both provided by DockerService
(service.py)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import docker

T = TypeVar("T")


class EngineCalls:
    _sizes_pool: ThreadPoolExecutor  # listings and sizes: never behind starts and resets

    def _api(self) -> docker.APIClient:  # provided by DockerService
        raise NotImplementedError

    async def _run(self, fn: Callable[..., T], *args: Any, bound: float | None = None,
                   pool: ThreadPoolExecutor | None = None) -> T:  # provided by DockerService
        raise NotImplementedError
