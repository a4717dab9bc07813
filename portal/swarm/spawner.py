"""Owns Swarm mode (DOCKER_SWARM=1): each lab is a Swarm service pinned to its volumes' node.

The spawner is DockerSpawner's SwarmSpawner with everything PortalSpawner adds (names, volumes,
loopback ports, spawn progress); object names still come from PortalSpawner's templates. It
holds the hub's `NodePlacement` (placement.py, over the SwarmView setup(c) hands it) and a
`SwarmLocation` (location.py); the service's spec comes from service.py's functions.

- Data follows the user: volumes are node-local, so the first start picks a node (the node of
  the user's other servers, which mount the same home and cache; else one that already holds
  the user's volumes; else the usable node with the fewest labs) and every later start is
  constrained to it (`node.id==...`). The node is kept in the spawner state across stops and
  hub restarts and shown to admins. A lab whose node is down is not started elsewhere.
  The volumes are created (labelled with their owner) on that node's engine once it is chosen.
- Names: a service is called as the container would be (`jupyterlab-{user}--{server}`), cut
  with a hash when longer than Swarm allows (service.py's `service_name`).
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
from collections.abc import Awaitable
from typing import Any

from docker.errors import APIError
from docker.types import DriverConfig, Mount
from dockerspawner import SwarmSpawner
from traitlets import Float, Unicode, default

from ..docker.types import ContainerMissing, DockerUnavailable
from ..lab.hooks import hook
from ..lab.spawner import PortalSpawner
from ..lab.volume_owners import VolumeDriver, claim_volumes
from . import nodes
from .location import SwarmLocation
from .placement import NodePlacement, SwarmRefused
from .service import LabGrants, driver_config, finish_service, service_mounts, service_name
from .tasks import STARTING, container_id, current_task, task_state
from .view import SwarmView

__all__ = ["PortalSwarmSpawner", "SwarmRefused"]


class PortalSwarmSpawner(PortalSpawner, SwarmSpawner):
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

    swarm_view = hook(
        "f() -> the hub's SwarmView (node listing, labs being placed, node engines), one per "
        "hub. None: a private one over the spawner's DockerService (plain use, unit tests).")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.location: SwarmLocation = SwarmLocation(self, self.user.name)
        self._own_view: SwarmView | None = None
        self._target: nodes.Node | None = None  # the node this create_object placed it on

    @default("object_name")
    def _object_name_default(self) -> str:  # DockerSpawner renders it again when `image` changes
        return service_name(self._render_templates(self.name_template))

    @property
    def node_placement(self) -> NodePlacement:
        """Node lookups and placement over the hub's SwarmView."""
        if self.swarm_view is not None:
            return NodePlacement(self.swarm_view())
        self._own_view = self._own_view or SwarmView(self.docker_service, nodes.manager_url())
        return NodePlacement(self._own_view)

    async def ended_container(self) -> dict[str, Any] | None:
        task = await self.task()
        return await self.location.task_container(task) if task else None

    # --- spawner life cycle ------------------------------------------------------------------
    async def task(self) -> dict[str, Any] | None:
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
        if self.location.restarting:
            return None  # the replaced task's states (shutdown, preparing) are not a stop
        if self.swarm_node:
            try:
                await self.location.reachable()
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
        placement = self.node_placement
        node = await placement.place(
            self.swarm_node, self.swarm_node_title, [v.name for v in self.owned_volumes()],
            self.user.name, self.log, None if self.shared_storage else self.users_node)
        self.swarm_node, self.swarm_node_title = node.id, node.title
        self.steps.begin(30, f"Placing your lab on node {node.title}")
        self._target = node
        try:
            await self._claim_on(node)
            return await super().create_object()
        finally:
            placement.placed(node)

    def users_node(self) -> tuple[str, str]:
        """The node (ID, title) another of the user's servers is pinned to, else ("", ""):
        home and cache are the user's, mounted into each of their servers, and node-local, so a
        user's servers all run where those are. Read from the spawners in memory, so a first
        start placed a moment ago (under the placement lock) counts."""
        for name in self.user.orm_spawners:
            other = self.user.spawners[name] if name != self.name else None
            if other is not None and getattr(other, "swarm_node", ""):
                return other.swarm_node, other.swarm_node_title
        return "", ""

    async def start_object(self) -> None:
        """Wait for the task to run, saying on which node and in which state it is."""
        where = self.location.node_title()
        self.steps.begin(55, f"Starting your lab on node {where}")
        while True:
            task = await self.task()
            state = task_state(task) if task else "new"
            if state == "running":
                return
            if state not in STARTING:
                why = (task or {}).get("Status", {}).get("Err") or state
                raise RuntimeError(f"Node {where} could not run your lab: {why}")
            self.steps.begin(60, f"Node {where}: {state}")
            await asyncio.sleep(0.25)

    async def remove_object(self) -> None:
        """Remove the service, then wait until the node removed its container (volume resets
        right after a stop would otherwise find the volumes still in use)."""
        container = container_id(await self.get_task())
        await super().remove_object()
        if not container or not self.swarm_node:
            return
        try:
            _, engine = await self.location.reachable()
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

    # --- the service's spec and volumes (service.py) -----------------------------------------
    @property
    def shared_storage(self) -> bool:
        return bool(self.volume_driver or self.volume_driver_options)

    def _driver_config(self, volume: str) -> DriverConfig | None:
        return driver_config(volume, self.volume_driver, self.volume_driver_options)

    @property
    def mounts(self) -> list[Mount]:
        return service_mounts(self.volume_binds, self._driver_config)

    async def claim_user_volumes(self) -> None:
        """Not yet at start: on the manager they would be volumes on the wrong node (and the
        placement would then find them there). `_claim_on` does it once the node is chosen."""

    async def _claim_on(self, node: nodes.Node) -> None:
        def driver(volume: str) -> VolumeDriver:
            config = self._driver_config(volume) or {}
            return config.get("Name"), config.get("Options")

        await claim_volumes(self.node_placement.engine(node), self.owned_volumes(), self.user,
                            driver if self.shared_storage else None)

    def docker(self, method: str, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        if method == "create_service":
            self._finish_service(kwargs)
        return super().docker(method, *args, **kwargs)

    def _finish_service(self, kwargs: dict[str, Any]) -> None:
        assert self._target is not None  # create_object placed it first
        grants = LabGrants(self.docker_access()[0], self.lab_memory, self.lab_cpus,
                           self.gpu_generic_resource if self.gpu_enabled else "")
        finish_service(kwargs, self._target, grants, not self.shared_storage, self.log,
                       self.user.name)
