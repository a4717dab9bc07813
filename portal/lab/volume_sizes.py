"""Owns the cache of volume sizes: one `docker system df` in flight, at most one a minute.

`docker system df` walks every volume on the host; run for each opening of the volume modal, a
user who kept opening it filled the Docker pool and every card said Docker was unreachable.
Sizes are now measured in the background on a pool of their own (DockerService.volume_usage),
shared by every caller, and served with their age; only the very first opening waits, briefly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..docker.service import DockerService
from ..platform.errors import DockerUnavailable
from ..platform.logs import portal_logger
from ..platform.tasks import in_background

log = portal_logger()
MAX_AGE = 60.0  # seconds: sizes older than this start one new measurement
FIRST_WAIT = 3.0  # seconds the first opening waits for the first measurement


@dataclass(frozen=True)
class Sizes:
    by_name: dict[str, int]
    age_s: float | None  # None: never measured yet
    measuring: bool  # a measurement is in flight


class VolumeSizes:
    def __init__(self, docker: DockerService, max_age: float = MAX_AGE,
                 first_wait: float = FIRST_WAIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.docker = docker
        self.clock = clock  # injected by tests: ages without waiting for them
        self.max_age = max_age
        self.first_wait = first_wait
        self._sizes: dict[str, int] = {}
        self._measured_at: float | None = None  # monotonic
        self._task: asyncio.Task | None = None
        self.measurements = 0  # completed, for logs and tests

    async def current(self) -> Sizes:
        """The cached sizes with their age; starts a measurement when they are too old."""
        if self._measured_at is None or self._age() > self.max_age:
            task = self._refresh()
            if self._measured_at is None:
                # Nothing to show yet: wait a little for the first one, never for long.
                await asyncio.wait([task], timeout=self.first_wait)
                if task.done() and task.result() is not None:
                    raise task.result()
        return Sizes(dict(self._sizes), None if self._measured_at is None else self._age(),
                     self._task is not None and not self._task.done())

    def forget(self, names: list[str]) -> None:
        """Volumes just removed: their old size must not be shown for a new, empty volume."""
        for name in names:
            self._sizes.pop(name, None)

    def _age(self) -> float:
        return self.clock() - (self._measured_at or 0.0)

    def _refresh(self) -> asyncio.Task:
        if self._task is None or self._task.done():
            self._task = in_background(self._measure(), "measuring volume sizes")
        return self._task

    async def _measure(self) -> DockerUnavailable | None:
        started = self.clock()
        try:
            sizes = await self.docker.volume_usage()
        except DockerUnavailable as e:
            log.warning("Measuring volume sizes failed: %s", e)
            return e
        self._sizes, self._measured_at = sizes, self.clock()
        self.measurements += 1
        log.info("Measured the sizes of %d volumes in %.2f s", len(sizes),
                 self._measured_at - started)
        return None
