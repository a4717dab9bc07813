"""Owns live usage of running labs: CPU, memory against the limit, volume sizes, sampled in the
background at a bounded cost.

One loop for the whole hub: every `interval` seconds one one-shot `docker stats` per running lab,
at most `concurrency` at a time, their starts spread over half the interval at most, 25 a second
at most; volume sizes (Docker's `df`) every `VOLUME_EVERY`-th pass. Pages and the API only read
the last samples. Why spread: a call costs the hub ~1.5 ms of CPU in a Docker thread; 1,000 at
the pace of four threads held the CPU and the interpreter lock for seconds, and the event loop
answered in 100-200 ms instead of a few (benchmarks/broadcast_fanout.py, idle).

On one engine a lab's container is the spawner's object name on the hub's engine. In Swarm mode
the spawner gives a locator instead (the node's engine and the task's container ID): it is asked
in this pass, remembered, and asked again when that container no longer runs (a restart
replaces it). Volume sizes come from the hub's engine only (see docs/scale-out.md).

Every running server is a lab, default and named alike, its samples kept by the operations'
server key (`user`, `user/name`): one server's sample never replaces another's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..docker.service import DockerService
from ..docker.types import ContainerMissing
from ..lab.volume_names import UserVolume
from ..lab.volume_sizes import VolumeSizes
from ..operations.in_flight import server_key
from ..platform.hub_queries import running_spawners
from ..platform.logs import portal_logger
from ..platform.metrics import LabTotals
from ..platform.pacing import LOOP_CLOCK, Clock, Pacer, with_turns
from .container_stats import cpu_counters, cpus_busy, memory_in_use, memory_limit

log = portal_logger("usage")
VOLUME_EVERY = 10
SPREAD = 0.5  # a pass starts its samples over at most this share of the interval...
MAX_GAP = 0.05  # ...and never more than this many seconds apart (a few labs: a quick pass)...
MIN_GAP = 0.04  # ...nor less: 2,000 labs at 30 s were 67 calls/s, 10% of a core idle (hub_scale)
CHUNK = 100  # labs listed between two turns of the event loop
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
        self.on_pass = on_pass  # hears each pass's samples (the usage history)
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
        unseen = any(v.name not in self._volume_sizes for lab in labs for v in lab.volumes)
        if self.passes % VOLUME_EVERY == 0 or unseen:  # a new lab's volumes: size them now
            await self._sample_volumes(labs)
        self.passes += 1
        gate = asyncio.Semaphore(self.concurrency)

        sampled: set[str] = set()

        async def one(lab: Lab) -> None:
            async with gate:
                try:
                    engine, container, stats = await self._stats(lab)
                except Exception as e:  # gone, or Docker slow: the old sample shows its age
                    log.debug("Usage of %s: %s", lab.key, e)
                    return
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

        pacer = Pacer(max(min(SPREAD * self.interval / max(len(labs), 1), MAX_GAP), MIN_GAP),
                      self.clock)
        samples = []
        for lab in labs:
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
        if self.on_pass is not None:
            self.on_pass(dict(self._usage))

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


async def running_labs(app: Any) -> list[Lab]:
    """The labs the hub has ready servers for, default and named (from its own records, no
    Docker call); a thousand take tens of milliseconds, so the loop gets a turn every `CHUNK`
    labs."""
    labs = []
    async for orm_spawner in with_turns(running_spawners(app.db), CHUNK):
        server = orm_spawner.name
        user = app.users[orm_spawner.user]
        spawner = user.spawners[server] if server else user.spawner
        if spawner.ready and not spawner.pending:
            labs.append(Lab(spawner.user.name, spawner.object_name, lab_volumes(spawner, server),
                            spawner.location.locator(), spawner.image,
                            spawner.location.node_title() or ONE_ENGINE, server))
    return labs


def lab_volumes(spawner: Any, server: str) -> tuple[UserVolume, ...]:
    """The server's volumes; a named server's own ones keyed `<server>/<key>`, as Manage
    volumes names them: the history then tells its workspace from the default server's, and
    a user's storage is the union of their servers' volumes."""
    own = set(spawner.volume_names.per_server) if server else set()
    return tuple(replace(v, key=f"{server}/{v.key}") if v.key in own else v
                 for v in spawner.owned_volumes())
