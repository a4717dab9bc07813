"""Owns Swarm mode (DOCKER_SWARM=1): each lab is a Swarm service pinned to its volumes' node.

The spawner is DockerSpawner's SwarmSpawner with everything PortalSpawner adds (names, volumes,
loopback ports, spawn progress); object names still come from PortalSpawner's templates.

- Data follows the user: volumes are node-local, so the first start picks a node (one that
  already holds the user's volumes, else the usable node with the fewest labs) and every later
  start is constrained to it (`node.id==...`). The node is kept in the spawner state across stops
  and hub restarts and shown to admins. A lab whose node is down is not started elsewhere.
  The volumes are created (labelled with their owner) on that node's engine once it is chosen.
- Limits: the groups' memory and CPU limits become the service's resource limits; the task
  carries them, so the card compares them like a container's. Usage is sampled on the node's
  engine (`lab_location`: the running task's container).
- Shared storage (`volume_driver_options`, e.g. NFS through the local driver): labs are not
  pinned; `{volume}` in an option is replaced by the volume's name.
- Restart is a forced service update: Swarm replaces the task's container on the same node;
  the volumes (and so the workspace) are kept, the container's own file system is not.
- Docker access: docker-sock mounts the socket of the lab's node; docker-privileged is refused
  (Swarm services cannot run privileged on Docker 20.10). GPUs: only as a generic resource the
  nodes advertise (`gpu_generic_resource`); otherwise a GPU request is refused at start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from docker.errors import APIError
from dockerspawner import SwarmSpawner
from traitlets import Float, Unicode

from ..docker.service import DockerService
from ..docker.types import DOCKER_SOCKET, ContainerInfo, ContainerMissing, DockerUnavailable
from ..lab.spawner import PortalSpawner
from .placement import NodePlacement, SwarmRefused
from .service import ServiceSpec
from .tasks import ENDED, STARTING, container_id, current_task, task_state

__all__ = ["PortalSwarmSpawner", "SwarmRefused"]


class PortalSwarmSpawner(ServiceSpec, NodePlacement, PortalSpawner, SwarmSpawner):
    swarm_node = Unicode("", help="Node ID holding this user's volumes (state, kept on stop).")
    swarm_node_title = Unicode("", help="That node as admins see it (state).")

    gpu_generic_resource = Unicode(
        "",
        help="Swarm generic resource naming a GPU (e.g. NVIDIA-GPU), advertised by the GPU "
        "nodes' daemons. Empty: a lab that should get GPUs is refused at start in Swarm mode.",
    ).tag(config=True)

    restart_bound = Float(120.0, help="Seconds a forced update may take to run again.").tag(
        config=True
    )

    def placement(self) -> str:
        return self.swarm_node_title or self.swarm_node[:12]

    # --- what the portal's services ask (see PortalSpawner) ----------------------------------
    async def lab_engine(self, docker: DockerService) -> DockerService:
        if not self.swarm_node:
            return docker  # never placed: no volumes anywhere yet (placement looks again)
        return (await self._reachable_engine())[1]

    async def lab_container(self, docker: DockerService) -> ContainerInfo:
        await self._reachable_engine()
        task = await self._task()
        if task is None:
            raise ContainerMissing(self.object_name)
        status = task.get("Status") or {}
        spec = task.get("Spec") or {}
        mounts = (spec.get("ContainerSpec") or {}).get("Mounts") or []
        # What the task was created with (the card compares it with the groups' limits now).
        limits = (spec.get("Resources") or {}).get("Limits") or {}
        ended = await self._inspect_task_container(task) if task_state(task) in ENDED else None
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
        )

    async def ended_container(self) -> dict[str, Any] | None:
        task = await self._task()
        return await self._inspect_task_container(task) if task else None

    async def _inspect_task_container(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """The task's container as its node's engine describes it; None when it is gone."""
        container = container_id(task)
        if not container or not task.get("NodeID"):
            return None
        try:
            engine = self._engine(await self._node(task["NodeID"]))
            found = await engine.container_data(container)
        except (DockerUnavailable, APIError) as e:
            self.log.info("Container of %s's ended task: %s", self.user.name, e)
            return None
        if found is None:
            self.log.info("Container of %s's ended task: %s is gone", self.user.name, container)
        return found

    def container_locator(self) -> Callable[[DockerService], Awaitable[tuple[DockerService, str]]]:
        return self.lab_location

    async def lab_location(self, docker: DockerService) -> tuple[DockerService, str]:
        """The engine of the lab's node and the running task's container ID (usage sampling)."""
        _, engine = await self._reachable_engine()
        task = await self._task()
        if task_state(task) != "running" or not container_id(task):
            raise ContainerMissing(self.object_name)
        return engine, container_id(task)

    async def restart_lab(self, docker: DockerService) -> None:
        """Forced update: Swarm stops the task's container and starts a new one on the node."""
        self._restarting = True
        try:
            await self._forced_update(docker)
        finally:
            self._restarting = False

    async def _forced_update(self, docker: DockerService) -> None:
        await self._reachable_engine()
        old = await self._task()
        try:
            await self.docker_service.force_update(self.object_name)
        except APIError as e:
            raise DockerUnavailable(str(e)) from None
        deadline = time.monotonic() + self.restart_bound
        while time.monotonic() < deadline:
            task = await self._task()
            if task and task["ID"] != (old or {}).get("ID") and task_state(task) == "running":
                return
            await asyncio.sleep(0.3)
        raise TimeoutError(f"{self.object_name} did not run again within {self.restart_bound} s")

    # --- spawner life cycle ------------------------------------------------------------------
    async def _task(self) -> dict[str, Any] | None:
        try:
            return await self.get_task()
        except (APIError, DockerUnavailable) as e:
            raise DockerUnavailable(f"the Swarm manager did not answer ({e})") from None

    async def get_task(self) -> dict[str, Any] | None:
        """The current task (portal/swarm/tasks.py: why not SwarmSpawner's choice)."""
        if await self.get_object() is None:
            return None
        tasks = await self.docker_service.service_tasks(self.service_name)
        return current_task(tasks) if tasks is not None else None

    async def poll(self) -> int | str | None:
        if self._restarting:
            return None  # the replaced task's states (shutdown, preparing) are not a stop
        if self.swarm_node:
            try:
                await self._reachable_engine()
            except DockerUnavailable as e:
                # Saying "exited" would make the hub remove the service; the node may come back.
                self.log.warning("Lab of %s: %s; keeping it as it is", self.user.name, e)
                return None
        return await super().poll()

    async def create_object(self) -> dict[str, Any]:
        sock, privileged = self.docker_access()
        if privileged:
            raise SwarmRefused(
                "Your account is in the docker-privileged group, but Swarm services cannot run "
                "privileged on this Docker version. Ask an admin to remove you from the group."
            )
        if self.gpu_enabled and not self.gpu_generic_resource:
            raise SwarmRefused(
                "GPUs cannot be given to Swarm services here: no GPU generic resource is "
                "configured. Ask an admin to set one up or to turn GPU support off."
            )
        node = await self._place()
        self._target = node
        try:
            await self._claim_on(node)
            return await super().create_object()
        finally:
            self._placed(node)

    async def start_object(self) -> None:
        """Wait for the task to run, saying on which node and in which state it is."""
        self._set_phase(55, f"Starting your lab on node {self.placement()}")
        while True:
            task = await self._task()
            state = task_state(task) if task else "new"
            if state == "running":
                return
            if state not in STARTING:
                why = (task or {}).get("Status", {}).get("Err") or state
                raise RuntimeError(f"Node {self.placement()} could not run your lab: {why}")
            self._set_phase(60, f"Node {self.placement()}: {state}")
            await asyncio.sleep(0.25)

    async def remove_object(self) -> None:
        """Remove the service, then wait until the node removed its container (volume resets
        right after a stop would otherwise find the volumes still in use)."""
        container = container_id(await self.get_task())
        await super().remove_object()
        if not container or not self.swarm_node:
            return
        try:
            _, engine = await self._reachable_engine()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                await engine.container(container)
                await asyncio.sleep(0.2)
        except (ContainerMissing, DockerUnavailable):
            return

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if self.swarm_node:
            state["swarm_node"] = self.swarm_node
            state["swarm_node_title"] = self.swarm_node_title
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.swarm_node = state.get("swarm_node", self.swarm_node)
        self.swarm_node_title = state.get("swarm_node_title", self.swarm_node_title)

    # clear_state (on stop) keeps swarm_node: the volumes stay on that node.
