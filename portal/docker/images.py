"""Owns the Docker calls on images: one image by reference or ID, every image an engine holds,
and which image each running container was created from. Nothing here pulls.

A mixin of DockerService (portal/docker/service.py), which provides `_api()` and `_run()`
(calls.py): the same pool, bound and errors as every other call (no answer is
DockerUnavailable).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from docker.errors import NotFound

from .calls import EngineCalls
from .types import ImageInfo, RunningContainer

SERVICE_LABEL = "com.docker.swarm.service.name"  # what Swarm labels a task's container with


def created_at(raw: Any) -> float:
    """An image's creation time in epoch seconds: the listing gives a number, inspect an
    RFC 3339 string (nanoseconds, `Z`); 0.0 when it says neither."""
    if isinstance(raw, int | float):
        return float(raw)
    if not isinstance(raw, str) or not raw:
        return 0.0
    text = raw.replace("Z", "+00:00")
    whole, dot, rest = text.partition(".")
    if dot:  # Python reads at most microseconds: cut the fraction to six digits
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{whole}.{digits[:6]}{rest[len(digits):]}"
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def image_info(raw: dict[str, Any]) -> ImageInfo:
    tags = tuple(t for t in raw.get("RepoTags") or () if t != "<none>:<none>")
    return ImageInfo(id=raw.get("Id", ""), tags=tags, created=created_at(raw.get("Created")),
                     size=int(raw.get("Size") or 0))


class DockerImages(EngineCalls):
    async def image(self, reference: str) -> ImageInfo | None:
        """The image a reference (a tag, or an ID) names on this engine now; None without one."""

        def inspect() -> ImageInfo | None:
            try:
                return image_info(self._api().inspect_image(reference))
            except NotFound:
                return None

        return await self._run(inspect, bound=10)

    async def image_list(self) -> list[ImageInfo]:
        """Every image the engine holds (`docker images`, one call)."""
        return await self._run(lambda: [image_info(i) for i in self._api().images()], bound=15)

    async def running_containers(self) -> list[RunningContainer]:
        """Every running container with the image ID it was created from (one call)."""

        def listing() -> list[RunningContainer]:
            return [RunningContainer(tuple(n.lstrip("/") for n in c.get("Names") or ()),
                                     c.get("ImageID", ""),
                                     (c.get("Labels") or {}).get(SERVICE_LABEL, ""))
                    for c in self._api().containers()]

        return await self._run(listing, bound=15)
