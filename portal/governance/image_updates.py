"""Owns image updates: whether a lab's container was created from an older image than the one
its tag names now (the card's notice and "Re-create to update"), and the images labs run, per
engine or Swarm node (the admins' Images section). Nothing is pulled: a tag moves on an engine
because someone built, loaded or tagged an image there.

Image IDs are compared, never names: the container's `Image` (fixed when it was created) with
the ID its reference (`Config.Image`, e.g. dshub-lab:latest) names on the same engine now. Cheap
on purpose: the card renders often and is pushed to every open page, so a reference is asked of
an engine at most once per `IMAGE_TTL` however many cards ask at once (one lookup in flight,
shared); the container's own image ID comes with the inspect the card makes anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..docker.service import DockerService
from ..docker.types import ContainerInfo, ImageInfo, RunningContainer
from ..platform.errors import DockerUnavailable
from ..platform.hub_queries import running_default_spawners
from ..platform.pacing import with_turns
from .environment_service import ImageEngines
from .environments import normal_image

CHUNK = 100  # labs read between two turns of the event loop
IMAGE_TTL = 10.0  # seconds the ID a reference names on an engine is trusted
MOST_KEPT = 256  # (engine, reference) pairs remembered; past it, expired ones are dropped


def short_id(image_id: str) -> str:
    """The 12 hex digits `docker images` shows."""
    return image_id.removeprefix("sha256:")[:12]


def age_words(seconds: float) -> str:
    """How long ago, in the largest whole unit: "3 days ago", "1 hour ago"."""
    for unit, length in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400),
                         ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


@dataclass(frozen=True)
class LabImage:
    """A running lab: its user, the spawner's object name (the container on one engine, the
    service in Swarm mode) and the reference its container was created from."""

    user: str
    container: str
    reference: str


@dataclass
class ImageInUse:
    image: ImageInfo
    users: list[str] = field(default_factory=list)
    # Users whose tag names another image now, and that image per tag.
    outdated: list[str] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)  # tag -> the ID it names now

    def age(self, now: float | None = None) -> str:
        if not self.image.created:
            return "unknown"
        return age_words((now or time.time()) - self.image.created)


@dataclass
class EngineImages:
    where: str  # "this hub's Docker engine", "Swarm node node-2"
    images: list[ImageInUse] = field(default_factory=list)
    problem: str = ""  # the engine did not answer


def image_ids(running: list[RunningContainer]) -> dict[str, str]:
    """Container name (and a Swarm task's service name) -> the image ID it was created from."""
    return {name: c.image_id for c in running for name in (*c.names, c.service) if name}


def group_by_image(labs: list[LabImage], running: list[RunningContainer],
                   listed: list[ImageInfo], current: dict[str, str]) -> list[ImageInUse]:
    """The images `labs` run on one engine, most used first; a lab whose container is not
    among `running` is on another engine. `current`: reference -> the ID it names now."""
    by_name = image_ids(running)
    known = {i.id: i for i in listed}
    found: dict[str, ImageInUse] = {}
    for lab in labs:
        image_id = by_name.get(lab.container)
        if not image_id:
            continue
        row = found.setdefault(image_id, ImageInUse(known.get(image_id)
                                                    or ImageInfo(image_id, (), 0.0, 0)))
        row.users.append(lab.user)
        now_names = current.get(lab.reference, "")
        if now_names and now_names != image_id:
            row.outdated.append(lab.user)
            row.moved[normal_image(lab.reference)] = now_names
    return sorted(found.values(), key=lambda r: (-len(r.users), r.image.id))


class ImageUpdates:
    def __init__(self, engines: ImageEngines, ttl: float = IMAGE_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engines, self.ttl, self.clock = engines, ttl, clock
        self._known: dict[tuple[DockerService, str], tuple[float, asyncio.Future[str]]] = {}
        self.lookups = 0  # Docker calls made for references (tests, benchmarks)

    async def current_id(self, engine: DockerService, reference: str,
                         fresh: bool = False) -> str:
        """The image ID `reference` names on `engine` now ("" when none); `fresh`: ask now."""
        key = (engine, normal_image(reference))
        now = self.clock()
        known = self._known.get(key)
        if fresh or known is None or now - known[0] > self.ttl:
            self._forget_expired(now)
            known = (now, asyncio.ensure_future(self._ask(engine, reference)))
            self._known[key] = known
        try:
            return await asyncio.shield(known[1])
        except DockerUnavailable:
            if self._known.get(key) is known:  # no answer is not remembered
                del self._known[key]
            raise

    async def _ask(self, engine: DockerService, reference: str) -> str:
        self.lookups += 1
        found = await engine.image(reference)
        return found.id if found else ""

    def _forget_expired(self, now: float) -> None:
        if len(self._known) >= MOST_KEPT:
            for key in [k for k, (at, _) in self._known.items() if now - at > self.ttl]:
                del self._known[key]

    async def newer(self, engine: DockerService, info: ContainerInfo,
                    fresh: bool = False) -> str:
        """The ID the container's reference names now, when not the container's own; else ""
        (the same image, a container made from an ID, or a tag that names nothing now)."""
        if not info.image or not info.image_id or info.image.startswith("sha256:"):
            return ""
        current = await self.current_id(engine, info.image, fresh)
        return current if current and current != info.image_id else ""

    async def in_use(self, labs: list[LabImage]) -> list[EngineImages]:
        """The images running labs use on each engine (two listing calls per engine)."""
        found = []
        for where, engine in await self.engines():
            try:
                running, listed = await engine.running_containers(), await engine.image_list()
                here = image_ids(running)
                references = {lab.reference for lab in labs if lab.container in here}
                current = {r: await self.current_id(engine, r) for r in sorted(references)}
            except DockerUnavailable as e:
                found.append(EngineImages(where, problem=e.message))
                continue
            found.append(EngineImages(where, group_by_image(labs, running, listed, current)))
        return found


async def running_lab_images(db: Any, users: Any) -> list[LabImage]:
    """The labs the hub has ready servers for, from its own records (no Docker call); the
    reference is the one the last start created the container from (lab/chosen_environment.py)."""
    labs = []
    async for orm_spawner in with_turns(running_default_spawners(db), CHUNK):
        spawner = users[orm_spawner.user].spawner
        if spawner.ready and not spawner.pending:
            chosen = getattr(spawner, "chosen", None)
            reference = getattr(chosen, "started_from", "") or spawner.image
            labs.append(LabImage(spawner.user.name, spawner.object_name, reference))
    return labs
