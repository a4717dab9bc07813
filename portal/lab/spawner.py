"""Owns the lab containers' spawner: the one place that knows Docker object names.

Names come from DockerSpawner's templating (escaped user names): ask `owned_volumes()`. A start
takes its environment (chosen_environment.py), creates the missing volumes labelled with their
owner (volume_owners.py); Docker access, GPUs and limits get the last word on the create call; a
container is removed on every stop and before every create, whatever `remove` says
(container_policy.py, SECURITY.md). On the host network a server has a loopback port of its own,
kept in its state (host_ports.py). Composed: hooks, volume_names, phases, location, poll_guard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import suppress
from typing import Any

from dockerspawner import DockerSpawner
from traitlets import default, validate

from ..access.names import PRIVILEGED_GROUP, SOCK_GROUP
from ..docker.service import DockerService
from ..operations.states import ServerChange
from ..platform.upstream import spawn_pending
from . import container_policy as policy
from . import hooks
from . import host_ports as ports
from . import volume_names as names
from .chosen_environment import ChosenEnvironment
from .location import LabLocation, OneEngine
from .phases import SpawnSteps
from .poll_guard import PollGuard
from .volume_names import UserVolume, VolumeNames
from .volume_owners import claim_volumes


class PortalSpawner(DockerSpawner):
    # Its settings, declared by their owners (container_policy, host_ports, volume_names, hooks).
    gpu_enabled, gpu_detected = policy.GPU_ENABLED, policy.GPU_DETECTED
    keep_failed_containers, volume_descriptions = policy.KEEP_FAILED, names.DESCRIPTIONS
    host_port, host_port_range = ports.HOST_PORT, ports.PORT_RANGE
    user_volumes, volume_name_template = names.USER_VOLUMES, names.NAME_TEMPLATE
    shared_volume_name, shared_volume_mount = names.SHARED_NAME, names.SHARED_MOUNT
    docker_engine, host_ports = hooks.DOCKER_ENGINE, hooks.HOST_PORTS
    start_guard, gpu_decision, limits_policy = (hooks.START_GUARD, hooks.GPU_DECISION,
                                                hooks.LIMITS_POLICY)
    exit_report, server_changed = hooks.EXIT_REPORT, hooks.SERVER_CHANGED
    account_deleted, choose_environment = hooks.ACCOUNT_DELETED, hooks.ENVIRONMENT
    environment_choices = hooks.ENVIRONMENT_CHOICES  # JupyterHub's start page (spawn_form.py)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.steps = SpawnSteps()
        self.lab_memory: int | None = None  # this start's limits (bytes, CPUs; None: none)
        self.lab_cpus: float | None = None
        self.last_log = ""  # the end of the last container's output (a failed start's reason)
        self._never_ran = False  # the last start_object failed: the container never ran
        self.location: LabLocation = OneEngine(lambda: self.object_name)
        self._private_docker: DockerService | None = None
        self._own_ports = ports.HostPorts()  # without setup's (plain use, unit tests)
        self.poll_guard = PollGuard()
        self.chosen = ChosenEnvironment(self.image)  # the configured image, before any choice

    @default("remove")
    def _remove_default(self) -> bool:
        return True

    @validate("remove")
    def _always_remove(self, proposal: Any) -> bool:
        return True

    def force_removal(self) -> None:  # traitlets does not validate config values
        self.remove = policy.always_removed(self.remove, self.log)

    @default("name_template")
    def _name_template_default(self) -> str:
        return "jupyterlab-{username}"

    @default("volumes")
    def _volumes_default(self) -> dict[str, str]:
        return self.volume_names.binds()

    @property
    def docker_service(self) -> DockerService:
        """The portal's DockerService (from setup), else a private one (plain use, unit tests)."""
        if self.docker_engine is not None:
            return self.docker_engine()
        self._private_docker = self._private_docker or DockerService(
            client_factory=lambda: self.client, workers=2)
        return self._private_docker

    @property
    def port_table(self) -> ports.HostPorts:
        """The hub's HostPorts (given by setup), else the spawner's own."""
        return self.host_ports() if self.host_ports is not None else self._own_ports

    @property
    def volume_names(self) -> VolumeNames:
        return VolumeNames(self.user_volumes, self.volume_name_template, self.shared_volume_name,
                           self.shared_volume_mount, self.volume_descriptions)

    def owned_volumes(self) -> list[UserVolume]:
        """This user's own volumes with their real (escaped) Docker names."""
        return self.volume_names.owned(lambda template: self.format_volume_name(template, self))

    def shared_volume(self) -> UserVolume:
        return self.volume_names.shared()

    @property
    def phase(self) -> str:
        return self.steps.message

    def docker_access(self) -> tuple[bool, bool]:  # (socket, privileged) from the groups now
        return SOCK_GROUP in (groups := self.group_names()), PRIVILEGED_GROUP in groups

    def group_names(self) -> set[str]:
        return {g.name for g in self.user.groups}

    def _report(self, change: ServerChange) -> None:  # pushed updates; a poll begun before
        if change in (ServerChange.START_REQUESTED, ServerChange.STOPPING):  # this is stale
            self.poll_guard.moved()
        if self.server_changed is not None:
            self.server_changed(self, change)

    async def start(self) -> tuple[str, int]:
        # Whoever asks (portal, /hub/spawn, REST API), open pages hear of it from here.
        self._report(ServerChange.START_REQUESTED)
        # Every way to start meets the same rule: not while the portal resets the volumes.
        if self.start_guard and (refusal := self.start_guard(self.user.name)):
            raise RuntimeError(refusal)
        groups = self.group_names()  # an unknown or forbidden environment refuses right here
        self.image = await self.chosen.choose(self.choose_environment, self.user_options, groups,
                                              self.image)
        self.force_removal()  # DockerSpawner then removes a leftover container before creating
        self.steps.begin(5, "Preparing your server")
        await self.claim_user_volumes()
        await self._follow_gpu_decision()
        self.lab_memory, self.lab_cpus = await self.chosen.limits(
            self.limits_policy, groups, (self.lab_memory, self.lab_cpus))
        if self.host_network:  # this server's own port, reached on loopback; held until it stops
            key = f"{self.user.name}/{self.name}"
            self.host_port = self.port_table.reserve(key, *self.host_port_range)
            self.port, self.ip, self.use_internal_ip = self.host_port, "127.0.0.1", True
        address = await super().start()
        self.steps.begin(80, "Waiting for JupyterLab to answer")
        return address

    async def _follow_gpu_decision(self) -> None:
        """The hub's GPU decision (a detection still running is awaited, bounded), if wanted."""
        if self.gpu_decision is not None:  # else (plain use, unit tests) the trait decides
            self.gpu_enabled, self.gpu_detected = await self.gpu_decision()
        self.gpu_enabled = self.gpu_enabled and self.chosen.gpu

    async def claim_user_volumes(self) -> None:
        """Create the missing volumes, labelled as this account's (Swarm: on the chosen node)."""
        await claim_volumes(self.docker_service, self.owned_volumes(), self.user)

    async def pull_image(self, image: str) -> None:
        self.steps.begin(15, "Checking the lab image")
        await super().pull_image(image)

    async def create_object(self) -> dict[str, Any]:
        self.steps.begin(35, "Creating your container")
        return await super().create_object()

    async def start_object(self) -> None:
        self.steps.begin(55, "Starting your container")
        self._never_ran = False
        try:
            await super().start_object()
        except Exception:
            self._never_ran = True
            raise

    async def progress(self) -> AsyncIterator[dict[str, object]]:
        async for event in self.steps.events(lambda: spawn_pending(self)):
            yield event

    async def stop(self, now: bool = False) -> None:
        # Whoever stops it (portal, hub admin page, REST API, culler), pages hear of it here.
        self._report(ServerChange.STOPPING)
        try:
            if self.keep_failed_containers and self._never_ran:
                self._never_ran = False
                self.log.warning("Keeping container %s, whose start failed "
                                 "(keep_failed_containers); the next start removes it",
                                 self.object_name)
                self.clear_state()
                return
            # The end of its output, a failed start's reason (no container: nothing to keep).
            with suppress(Exception):
                self.last_log = await self.docker_service.log_tail(self.object_name, 40, 8000)
            self.force_removal()
            await super().stop(now)
        finally:
            self._report(ServerChange.STOPPED)

    async def poll(self) -> int | None:
        if self.location.restarting:
            return None  # stopped for a moment by the portal's own restart: not an end
        status = await super().poll()
        if status is not None:
            # The hub found the lab gone (its periodic poll, or before a stop): pages hear of it.
            self._report(ServerChange.ENDED)
            # The container ended by itself (out of memory, a crash): say why before it goes.
            container = None if self.exit_report is None else await self.ended_container()
            if container is not None:
                self.exit_report(self.user.name, container)
        return status

    async def poll_and_notify(self) -> int | None:
        return await self.poll_guard.poll_and_notify(self)

    async def ended_container(self) -> dict[str, Any] | None:
        """The lab's container as Docker inspects it (State, HostConfig), None when gone."""
        return await self.get_object()

    def get_env(self) -> dict[str, str]:
        return {**super().get_env(), **self.chosen.variables, **policy.lab_env(
            self.gpu_enabled, self.gpu_detected, self.lab_memory, self.lab_cpus)}

    def docker(self, method: str, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """DockerSpawner's calls (APIClient methods by name), in the DockerService's pool."""
        if method == "create_container":
            policy.finish_create(kwargs, self.docker_access(), self.gpu_enabled,
                                 self.lab_memory, self.lab_cpus, self.log, self.user.name)
        # docker-py's pull reads without a timeout: the hub's own start timeout bounds it.
        bound = float(self.start_timeout) if method == "pull" else None
        return self.docker_service.api_call(method, args, kwargs, bound=bound)

    async def delete_forever(self) -> None:  # the user is deleted (admin page, REST API)
        if self.account_deleted is not None:
            await self.account_deleted(self)

    # --- the host network: a port of its own, kept in the state ------------------------------
    @property
    def host_network(self) -> bool:
        return self.network_name == "host"

    async def get_ip_and_port(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port) if self.host_network else await super().get_ip_and_port()

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if self.host_network and self.host_port:
            state["host_port"] = self.host_port
        return self.chosen.saved(state)

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.chosen.load(state)
        if state.get("host_port"):
            self.host_port = self.port = int(state["host_port"])
            self.port_table.keep(f"{self.user.name}/{self.name}", self.host_port)

    def clear_state(self) -> None:
        super().clear_state()
        if self.host_port:
            self.port_table.release(f"{self.user.name}/{self.name}")
        self.host_port = 0
        self.steps.begin(0, "")
