"""Owns where a Swarm lab lives, for the portal's services: the node holding its volumes, that
node's engine, the current task's container, and a restart (a forced service update).

`SwarmLocation` answers the calls of portal/lab/location.py's `LabLocation` for one Swarm
spawner, which it is given (its node, its task and the hub's `NodePlacement`).
"""

from __future__ import annotations

import asyncio
import time
from logging import Logger
from typing import Any, Protocol

from docker.errors import APIError

from ..docker.service import DockerService
from ..docker.types import DOCKER_SOCKET, ContainerInfo, ContainerMissing, DockerUnavailable
from ..lab.location import Locator
from . import nodes
from .placement import NodePlacement
from .tasks import ENDED, container_id, task_state


class SwarmLab(Protocol):
    """What SwarmLocation reads of its spawner (portal/swarm/spawner.py)."""

    object_name: str
    swarm_node: str  # the node holding the volumes ("" before the first start)
    swarm_node_title: str
    restart_bound: float
    log: Logger

    @property
    def node_placement(self) -> NodePlacement: ...

    @property
    def docker_service(self) -> DockerService: ...

    async def task(self) -> dict[str, Any] | None: ...


class SwarmLocation:
    def __init__(self, lab: SwarmLab, user: str) -> None:
        self.lab = lab
        self.user = user
        self.restarting = False  # a forced update: the replaced task's states are not a stop
        # (container ID, the image ID it was created from): asked of the node once a container.
        self._image_of = ("", "")

    def node_title(self) -> str:
        return self.lab.swarm_node_title or self.lab.swarm_node[:12]

    async def reachable(self) -> tuple[nodes.Node, DockerService]:
        lab = self.lab
        return await lab.node_placement.reachable(lab.swarm_node, lab.swarm_node_title)

    async def engine(self, docker: DockerService) -> DockerService:
        if not self.lab.swarm_node:
            return docker  # never placed: no volumes anywhere yet (placement looks again)
        return (await self.reachable())[1]

    async def container(self, docker: DockerService) -> ContainerInfo:
        await self.reachable()
        task = await self.lab.task()
        if task is None:
            raise ContainerMissing(self.lab.object_name)
        status = task.get("Status") or {}
        spec = task.get("Spec") or {}
        mounts = (spec.get("ContainerSpec") or {}).get("Mounts") or []
        # What the task was created with (the card compares it with the groups' limits now).
        limits = (spec.get("Resources") or {}).get("Limits") or {}
        ended = await self.task_container(task) if task_state(task) in ENDED else None
        # The tag the service names (Swarm pins a digest only when a registry answers).
        image = ((spec.get("ContainerSpec") or {}).get("Image") or "").split("@")[0]
        return ContainerInfo(
            id=container_id(task),
            status=status.get("State", "unknown"),
            exit_code=(status.get("ContainerStatus") or {}).get("ExitCode"),
            error=status.get("Err", ""),
            privileged=False,
            docker_socket=any(m.get("Target") == DOCKER_SOCKET for m in mounts),
            # Only the container knows whether the kernel's OOM killer ended it.
            oom_killed=bool(((ended or {}).get("State") or {}).get("OOMKilled")),
            memory=int(limits.get("MemoryBytes") or 0),
            nano_cpus=int(limits.get("NanoCPUs") or 0),
            image_id=await self.image_id(task) if task_state(task) == "running" else "",
            image=image,
        )

    async def image_id(self, task: dict[str, Any]) -> str:
        """The image the task's container was created from, as its node's engine says."""
        container = container_id(task)
        if container and container != self._image_of[0]:
            found = await self.task_container(task)
            if found is not None:
                self._image_of = (container, found.get("Image") or "")
        return self._image_of[1] if container == self._image_of[0] else ""

    async def task_container(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """The task's container as its node's engine describes it; None when it is gone."""
        container = container_id(task)
        if not container or not task.get("NodeID"):
            return None
        try:
            placement = self.lab.node_placement
            engine = placement.engine(await placement.node(task["NodeID"]))
            found = await engine.container_data(container)
        except (DockerUnavailable, APIError) as e:
            self.lab.log.info("Container of %s's ended task: %s", self.user, e)
            return None
        if found is None:
            self.lab.log.info("Container of %s's ended task: %s is gone", self.user, container)
        return found

    def locator(self) -> Locator | None:
        return self.running_container

    async def running_container(self, docker: DockerService) -> tuple[DockerService, str]:
        """The engine of the lab's node and the running task's container ID (usage sampling)."""
        _, engine = await self.reachable()
        task = await self.lab.task()
        if task_state(task) != "running" or not container_id(task):
            raise ContainerMissing(self.lab.object_name)
        return engine, container_id(task)

    async def restart(self, docker: DockerService) -> None:
        """Forced update: Swarm stops the task's container and starts a new one on the node."""
        self.restarting = True
        try:
            await self._forced_update()
        finally:
            self.restarting = False

    async def _forced_update(self) -> None:
        await self.reachable()
        old = await self.lab.task()
        try:
            await self.lab.docker_service.force_update(self.lab.object_name)
        except APIError as e:
            raise DockerUnavailable(str(e)) from None
        deadline = time.monotonic() + self.lab.restart_bound
        while time.monotonic() < deadline:
            task = await self.lab.task()
            if task and task["ID"] != (old or {}).get("ID") and task_state(task) == "running":
                return
            await asyncio.sleep(0.3)
        raise TimeoutError(
            f"{self.lab.object_name} did not run again within {self.lab.restart_bound} s")
