"""Owns "where does this user's lab live?" for the portal's services: one engine by default.

Swarm mode overrides each method (portal/swarm/spawner.py): the engine is then the node holding the
user's volumes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..docker.service import DockerService
from ..docker.types import ContainerInfo


class OneEngine:
    """Mixed into PortalSpawner: the lab and its volumes are on the hub's own engine."""

    object_name: Any

    async def lab_engine(self, docker: DockerService) -> DockerService:
        """The engine holding this user's volumes and container: on one engine, the hub's."""
        return docker

    async def lab_container(self, docker: DockerService) -> ContainerInfo:
        return await docker.container(self.object_name)

    # A restart through the portal is under way: the container is exited for a moment, which
    # the hub's poll must not take for the lab's end (it would stop the server and remove the
    # container in the middle of the restart). Per instance; the class value is only a default.
    _restarting = False

    async def restart_lab(self, docker: DockerService) -> None:
        """Docker restart: the same container and volumes."""
        self._restarting = True
        try:
            await docker.restart(self.object_name)
        finally:
            self._restarting = False

    def container_locator(
        self,
    ) -> Callable[[DockerService], Awaitable[tuple[DockerService, str]]] | None:
        """How the usage sampler finds the running container: None, it is the object name on
        the hub's engine (no lookup)."""
        return None

    def placement(self) -> str:
        """The node the lab is pinned to, shown to admins; empty on one engine."""
        return ""
