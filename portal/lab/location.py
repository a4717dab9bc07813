"""Owns "where does this user's lab live?" for the portal's services: one engine by default.

Each spawner holds one location (`spawner.location`): `OneEngine` here, the lab and its volumes
on the hub's own engine; in Swarm mode `SwarmLocation` (portal/swarm/location.py), the node
holding the user's volumes. Both answer the same calls (`LabLocation`). What concerns all of a
user's volumes (the volume dialog, a reset, the account's deletion) asks `users_engine`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ..docker.service import DockerService
from ..docker.types import ContainerInfo
from .server_names import named_oldest_first

# How the usage sampler finds a running lab: its engine and container ID.
Locator = Callable[[DockerService], Awaitable[tuple[DockerService, str]]]


class LabLocation(Protocol):
    # A restart through the portal is under way: the container is exited for a moment, which
    # the hub's poll must not take for the lab's end (it would stop the server and remove the
    # container in the middle of the restart).
    restarting: bool

    async def engine(self, docker: DockerService) -> DockerService: ...
    async def container(self, docker: DockerService) -> ContainerInfo: ...
    async def restart(self, docker: DockerService) -> None: ...
    def locator(self) -> Locator | None: ...
    def node_title(self) -> str: ...


class OneEngine:
    """The lab and its volumes are on the hub's own engine."""

    def __init__(self, object_name: Callable[[], str]) -> None:
        self._name = object_name  # the spawner's (its saved state may rename it)
        self.restarting = False

    async def engine(self, docker: DockerService) -> DockerService:
        """The engine holding this user's volumes and container: on one engine, the hub's."""
        return docker

    async def container(self, docker: DockerService) -> ContainerInfo:
        return await docker.container(self._name())

    async def restart(self, docker: DockerService) -> None:
        """Docker restart: the same container and volumes."""
        self.restarting = True
        try:
            await docker.restart(self._name())
        finally:
            self.restarting = False

    def locator(self) -> Locator | None:
        """None: the running container is the object name on the hub's engine (no lookup)."""
        return None

    def node_title(self) -> str:
        """The node the lab is pinned to, shown to admins; empty on one engine."""
        return ""


async def users_engine(user: Any, docker: DockerService) -> DockerService:
    """The engine holding the user's volumes: in Swarm mode that of the node their servers are
    pinned to (the first placed one's: they share it; the default server may never have
    started), else `docker`, the hub's."""
    for name in ("", *named_oldest_first(user)):
        location = user.spawners[name].location
        if location.node_title():
            return await location.engine(docker)
    return docker
