"""Owns live usage of running labs: CPU, memory against the limit, volume sizes, sampled in the
background at a bounded cost.

One loop for the whole hub: every `interval` seconds the labs on the hub's engine are read from
the host's cgroup files after one container listing, where the hub can (portal/docker/stats.py);
otherwise, and for Swarm tasks, one one-shot `docker stats` per lab, at most `concurrency` at a
time, their starts spread over half the interval at most, 25 a second at most. Volume sizes
(Docker's `df`) every `VOLUME_EVERY`-th pass. Pages and the API only read the last samples. Why
spread: a call costs the hub CPU in a Docker thread; 1,000 at the pace of four threads held the
interpreter lock for seconds, and the event loop answered in 100-200 ms instead of a few.

On one engine a lab's container is the spawner's object name on the hub's engine. In Swarm mode
the spawner gives a locator instead (the node's engine and the task's container ID): it is asked
in this pass, remembered, and asked again when that container no longer runs (a restart
replaces it). Volume sizes come from the hub's engine only (see docs/scale-out.md). Every
running server is a lab, default or named, its samples kept by server key (`user`, `user/name`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..docker.service import DockerService
from ..docker.types import ContainerMissing
from ..lab.volume_names import UserVolume
from ..lab.volume_sizes import VolumeSizes
from ..operations.in_flight import server_key
from ..platform.logs import portal_logger
from ..platform.metrics import LabTotals
from ..platform.pacing import LOOP_CLOCK, Clock, Pacer
from .container_stats import cpu_counters, cpus_busy, memory_in_use, memory_limit

log = portal_logger("usage")
VOLUME_EVERY = 10
SPREAD = 0.5  # a pass starts its samples over at most this share of the interval...
MAX_GAP = 0.05  # ...and never more than this many seconds apart (a few labs: a quick pass)...
MIN_GAP = 0.04  # ...nor less: 2,000 labs at 30 s were 67 calls/s, 10% of a core idle (hub_scale)
CHUNK = 250  # samples handled between two turns of the event loop
ONE_ENGINE = "engine"  # the node of every lab when the hub runs them on its own engine

# Given the hub's engine: (the engine running the lab's container, that container's ID).
Locator = Callable[[DockerService], Awaitable[tuple[DockerService, str]]]


@dataclass(frozen=True)
class Lab:
    """A running lab to sample: its user, container (object name) and volumes; `locate` when
    the container is elsewhere than the hub's engine under that name (Swarm); its image and
    node, for the metrics; `server`, a named server's name."""

    user: str
    container: str
    volumes: tuple[UserVolume, ...] = ()
    locate: Locator | None = field(default=None, compare=False)
    image: str = ""
    node: str = ONE_ENGINE
    server: str = ""

    @property
    def key(self) -> str:
        return server_key(self.user, self.server)


@dataclass(frozen=True)
class LabUsage:
    cpus: float | None  # CPUs busy (1.0 = one whole CPU); None until two samples exist
    memory: int | None  # bytes in use, page cache excluded; None: Docker has no figure yet
    memory_limit: int  # bytes; 0: no limit
    volumes: dict[str, int | None] = field(default_factory=dict)  # volume key -> bytes
    at: float = field(default_factory=time.time)  # when sampled (epoch seconds)

    def age(self, now: float | None = None) -> float:
        return (now or time.time()) - self.at

    def as_json(self) -> dict[str, Any]:
        return {"cpus": None if self.cpus is None else round(self.cpus, 3),
                "memory_bytes": self.memory, "memory_limit_bytes": self.memory_limit or None,
                "volumes": self.volumes, "sampled_at": self.at,
                "age_seconds": round(self.age(), 1)}


class UsageCollector:
    def __init__(self, docker: DockerService, interval: float, concurrency: int = 4,
                 sizes: VolumeSizes | None = None, clock: Clock = LOOP_CLOCK,
                 on_pass: Callable[[dict[str, LabUsage]], None] | None = None) -> None:
        self.docker, self.interval, self.concurrency = docker, interval, concurrency
        self.on_pass = on_pass  # hears each pass's samples, CHUNK at a time (the history)
        self.clock = clock  # paces a pass's Docker calls (a fake one in unit tests)
        self.sizes = sizes  # the hub-wide cache of volume sizes
        self._usage: dict[str, LabUsage] = {}  # by server key
        self._counters: dict[str, tuple[int, int, int]] = {}  # container -> last CPU counters
        self._located: dict[str, tuple[DockerService, str]] = {}  # key -> engine, container ID
        self._volume_sizes: dict[str, int | None] = {}
        self._volumes_of: dict[str, set[str]] = {}  # user -> their servers' volume names
        self.passes = 0
        self.docker_calls = 0  # since the hub started (benchmarks, the API)
        self.last_pass_seconds = 0.0
        self.totals: dict[tuple[str, str], LabTotals] = {}  # the last pass's, by image and node

    def get(self, user: str, server: str = "") -> LabUsage | None:
        """The last sample of one of the user's servers (the default one unless named)."""
        return self._usage.get(server_key(user, server))

    def all(self) -> dict[str, LabUsage]:
        """The last samples, by server key (`user`, `user/name`)."""
        return dict(self._usage)

    def user_volumes(self, user: str) -> dict[str, int | None]:
        """Each volume of the user's running servers once (home and cache are mounted into all
        of them), by Docker name: what their storage quota weighs."""
        return {name: self._volume_sizes.get(name) for name in self._volumes_of.get(user, ())}

    def stale(self, usage: LabUsage) -> bool:  # a pass may outlast the interval (MIN_GAP)
        return usage.age() > 2.5 * max(self.interval, self.last_pass_seconds)

    async def collect(self, labs: Iterable[Lab]) -> None:
        """One pass over the running labs; a lab that fails keeps its last (aging) sample."""
        labs = list(labs)
        # A new lab's volumes (no size yet) ask the hub-wide cache each pass until it has one
        # (Docker at most once a minute; their storage showed 2-3 min late), others every 10th.
        unsized = any(self._volume_sizes.get(v.name) is None
                      for lab in labs if lab.locate is None for v in lab.volumes)
        if self.passes % VOLUME_EVERY == 0 or unsized:
            await self._sample_volumes(labs)
        self.passes += 1
        sampled: set[str] = set()

        def record(lab: Lab, engine: DockerService, container: str,
                   stats: dict[str, Any]) -> None:
            sampled.add(container)
            counters = cpu_counters(stats)
            before = self._counters.get(container)
            self._counters[container] = counters
            # The sizes are the hub engine's: a volume of that name on another node is another.
            here = engine is self.docker
            self._usage[lab.key] = LabUsage(
                cpus=cpus_busy(before, counters) if before else None,
                memory=memory_in_use(stats),
                memory_limit=memory_limit(stats),
                volumes={v.key: self._volume_sizes.get(v.name) if here else None
                         for v in lab.volumes},
            )

        one_at_a_time = await self._sample_in_bulk(labs, record)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(lab: Lab) -> None:
            async with gate:
                try:
                    engine, container, stats = await self._stats(lab)
                except Exception as e:  # gone, or Docker slow: the old sample shows its age
                    log.debug("Usage of %s: %s", lab.key, e)
                    return
            record(lab, engine, container, stats)

        pacer = Pacer(max(min(SPREAD * self.interval / max(len(one_at_a_time), 1), MAX_GAP),
                          MIN_GAP), self.clock)
        samples = []
        for lab in one_at_a_time:
            await pacer.turn()
            samples.append(asyncio.create_task(one(lab)))
        await asyncio.gather(*samples)
        running = {lab.key for lab in labs}
        for key in set(self._usage) - running:
            del self._usage[key]
        for key in set(self._located) - running:
            del self._located[key]
        volumes_of: dict[str, set[str]] = {}
        for lab in labs:
            volumes_of.setdefault(lab.user, set()).update(v.name for v in lab.volumes)
        self._volumes_of = volumes_of
        kept = sampled | {lab.container for lab in labs}  # a failed sample keeps its counters
        for name in set(self._counters) - kept - {c for _, c in self._located.values()}:
            del self._counters[name]
        totals: dict[tuple[str, str], LabTotals] = {}
        for lab in labs:  # the metrics read these between passes (portal/platform/metrics.py)
            usage, key = self._usage.get(lab.key), (lab.image, lab.node)
            totals[key] = totals.get(key, LabTotals()).plus(usage and usage.cpus,
                                                             usage and usage.memory)
        self.totals = totals
        if self.on_pass is not None:  # a chunk at a time: 2,000 at once held the loop 0.2 s
            samples = list(self._usage.items())
            for start in range(0, len(samples), CHUNK):
                self.on_pass(dict(samples[start:start + CHUNK]))
                await asyncio.sleep(0)

    async def _sample_in_bulk(self, labs: list[Lab],
                              record: Callable[[Lab, DockerService, str, dict[str, Any]], None],
                              ) -> list[Lab]:
        """The labs on the hub's engine from its cgroup files, all at once (one listing, no
        pacing: no call per lab); what is left to sample one at a time (Swarm tasks, or every
        lab where the hub cannot read the files)."""
        here = [lab for lab in labs if lab.locate is None]
        try:
            found = await self.docker.stats_in_bulk([lab.container for lab in here])
        except Exception as e:  # Docker slow or gone: every lab keeps its aging sample
            log.debug("Usage in bulk: %s", e)
            return [lab for lab in labs if lab.locate is not None]
        if found is None:
            return labs
        self.docker_calls += 1
        for i, lab in enumerate(here):
            if lab.container in found:
                record(lab, self.docker, lab.container, found[lab.container])
            if i % CHUNK == CHUNK - 1:
                await asyncio.sleep(0)  # the loop's turn between chunks
        return [lab for lab in labs if lab.locate is not None]

    async def _stats(self, lab: Lab) -> tuple[DockerService, str, dict[str, Any]]:
        """(engine, container, one stats sample) of a lab; a located container that no longer
        runs (a Swarm restart leaves the old one exited) is located again, once."""
        if lab.locate is None:
            self.docker_calls += 1
            return self.docker, lab.container, await self.docker.stats_once(lab.container)
        fresh = lab.key not in self._located
        while True:
            if lab.key not in self._located:
                self.docker_calls += 1
                self._located[lab.key] = await lab.locate(self.docker)
            engine, container = self._located[lab.key]
            self.docker_calls += 1
            try:
                stats = await engine.stats_once(container)
            except ContainerMissing:
                stats = {}
            if stats.get("memory_stats"):  # a container that is not running reports none
                return engine, container, stats
            del self._located[lab.key]
            if fresh:
                raise ContainerMissing(f"{lab.container}: no running container")
            fresh = True

    async def _sample_volumes(self, labs: list[Lab]) -> None:
        """Volume sizes from the hub-wide cache (portal/lab/volume_sizes.py): one `docker system df`
        at most a minute, shared with the volume modal; never a call of our own."""
        names = [v.name for lab in labs for v in lab.volumes]
        if not names or self.sizes is None:
            return
        try:
            sizes = await self.sizes.current()
        except Exception as e:
            log.info("Volume sizes: %s", e)
            return
        self._volume_sizes = {n: sizes.by_name.get(n) for n in names}

    async def run(self, labs_now: Callable[[], Awaitable[list[Lab]]]) -> None:
        """Forever: `await labs_now()` gives the running labs at each pass."""
        while True:
            started = time.monotonic()
            try:
                await self.collect(await labs_now())
            except Exception:
                log.exception("Usage collection failed; trying again")
            self.last_pass_seconds = time.monotonic() - started
            await asyncio.sleep(max(self.interval - (time.monotonic() - started), 1.0))
