"""Owns the lab containers' spawner: the one place that knows Docker object names.

- Container `jupyterlab-{username}` and the user's volumes are rendered by DockerSpawner's own
  templating (escaped user names), never rebuilt from strings elsewhere: ask `owned_volumes()`.
  Each start creates the missing volumes itself, labelled with the owning account, and refuses
  volumes labelled for another account (portal/lab/volume_owners.py); deleting the user hands them
  to the injected `account_deleted` hook (removed or archived).
- `DOCKER_NETWORK_NAME=host` (tests, local runs): each server listens on its own loopback port,
  kept in the spawner state so it survives a hub restart.
- Docker access (groups `docker-sock`, `docker-privileged`), GPU requests and memory/CPU limits
  (asked of `limits_policy` at each start) are enforced on the final create call: the socket
  bind and the privileged flag follow group membership whatever the volumes or
  extra_host_config say; binds reaching the engine (checked by normalised path,
  portal/lab/container_policy.py) never come from configuration. (Other host settings, e.g.
  capabilities or devices, are the admin's configuration and are not filtered.)
- A container is removed on every stop and before every create, whatever `remove` says: a kept
  container would start again with the grants it was created with (see SECURITY.md).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from dockerspawner import DockerSpawner
from traitlets import Bool, default, validate

from ..access.names import PRIVILEGED_GROUP, SOCK_GROUP
from ..docker.service import DockerService
from ..operations.states import ServerChange
from .container_policy import enforce_host_config, with_watchtower_opt_out
from .hooks import PortalHooks
from .host_ports import HostNetworkPort
from .location import OneEngine
from .phases import SpawnPhases
from .volume_names import UserVolumes
from .volume_owners import claim_volumes


class PortalSpawner(SpawnPhases, OneEngine, PortalHooks, UserVolumes, HostNetworkPort,
                    DockerSpawner):
    gpu_enabled = Bool(
        False,
        help="Request all NVIDIA GPUs for the container. With the portal set up, each start "
        "follows the hub's decision (ENABLE_GPU_SUPPORT, detection at hub start).",
    ).tag(config=True)

    gpu_detected = Bool(False, help="The hub's probe found NVIDIA GPUs (NVIDIA_DETECTED=1).")

    # What this start's container gets (memory bytes, CPUs; None: no limit).
    lab_memory: int | None = None
    lab_cpus: float | None = None

    keep_failed_containers = Bool(
        False,
        help="Keep a container whose start failed, to inspect it (tests, debugging). It never "
        "ran; the next start removes it before creating a new one.",
    ).tag(config=True)

    @default("remove")
    def _remove_default(self) -> bool:
        return True

    @validate("remove")
    def _always_remove(self, proposal: Any) -> bool:
        return True

    def force_removal(self) -> None:
        """A kept container is started again as it was created: with the Docker access of its
        creation, not today's groups. So every stop removes it and every start makes a fresh
        one, whatever the configuration says (traitlets does not validate config values)."""
        if not self.remove:
            self.log.warning("PortalSpawner.remove=False is ignored: containers are removed on "
                             "stop (keep_failed_containers keeps failed starts for inspection)")
            self.remove = True

    @default("name_template")
    def _name_template_default(self) -> str:
        return "jupyterlab-{username}"

    _private_docker: DockerService | None = None

    @property
    def docker_service(self) -> DockerService:
        """The one path to Docker: the portal's DockerService (given by setup), else a private
        one over DockerSpawner's own client settings (plain use, unit tests)."""
        if self.docker_engine is not None:
            return self.docker_engine()
        if self._private_docker is None:
            self._private_docker = DockerService(client_factory=lambda: self.client, workers=2)
        return self._private_docker

    def docker_access(self) -> tuple[bool, bool]:
        """(socket, privileged) as granted by the user's current group membership."""
        groups = {g.name for g in self.user.groups}
        return SOCK_GROUP in groups, PRIVILEGED_GROUP in groups

    def _report(self, change: ServerChange) -> None:
        """Tell the portal (pushed updates) what the hub just asked of this server."""
        if self.server_changed is not None:
            self.server_changed(self, change)

    async def start(self) -> tuple[str, int]:
        # Whoever asks (portal, /hub/spawn, REST API), open pages hear of it from here.
        self._report(ServerChange.START_REQUESTED)
        # Every way to start meets the same rule: not while the portal resets this user's
        # volumes.
        refusal = self.start_guard(self.user.name) if self.start_guard else None
        if refusal:
            raise RuntimeError(refusal)
        self.force_removal()  # DockerSpawner then removes a leftover container before creating
        self._set_phase(5, "Preparing your server")
        await self.claim_user_volumes()
        await self._follow_gpu_decision()
        await self._follow_limits()
        if self.host_network:
            self.take_host_port()
        address = await super().start()
        self._set_phase(80, "Waiting for JupyterLab to answer")
        return address

    async def claim_user_volumes(self) -> None:
        """Create the missing volumes, labelled as this account's (Swarm: on the chosen node)."""
        await claim_volumes(self.docker_service, self.owned_volumes(), self.user)

    _never_ran = False  # the last start_object failed: the container never ran

    async def start_object(self) -> None:
        self._set_phase(55, "Starting your container")
        self._never_ran = False
        try:
            await super().start_object()
        except Exception:
            self._never_ran = True
            raise

    async def stop(self, now: bool = False) -> None:
        # Whoever stops it (portal, hub admin page, REST API, culler), pages hear of it here.
        self._report(ServerChange.STOPPING)
        try:
            await self._stop(now)
        finally:
            self._report(ServerChange.STOPPED)

    async def _stop(self, now: bool) -> None:
        if self.keep_failed_containers and self._never_ran:
            self._never_ran = False
            self.log.warning("Keeping container %s, whose start failed (keep_failed_containers); "
                             "the next start removes it", self.object_name)
            self.clear_state()
            return
        await self._keep_log_tail()
        self.force_removal()
        await super().stop(now)

    # The end of the last container's output, kept when it is removed (a failed start's reason).
    last_log = ""

    async def _keep_log_tail(self) -> None:
        try:
            self.last_log = await self.docker_service.log_tail(self.object_name, 40, 8000)
        except Exception:  # no container (never created, already gone): nothing to keep
            return

    async def _follow_gpu_decision(self) -> None:
        """Take the hub's GPU decision, waiting for a detection still running (it is bounded)."""
        if self.gpu_decision is None:
            return  # no portal (unit tests, plain use): the trait decides
        self.gpu_enabled, self.gpu_detected = await self.gpu_decision()

    async def _follow_limits(self) -> None:
        if self.limits_policy is None:
            return
        limits = await self.limits_policy(self.group_names())
        self.lab_memory, self.lab_cpus = limits.memory, limits.cpus

    def group_names(self) -> set[str]:
        return {g.name for g in self.user.groups}

    async def poll(self) -> int | None:
        if self._restarting:
            return None  # stopped for a moment by the portal's own restart: not an end
        status = await super().poll()
        if status is not None:
            # The hub found the lab gone (its periodic poll, or before a stop): pages hear of it.
            self._report(ServerChange.ENDED)
        if status is not None and self.exit_report is not None:
            # The container ended by itself (out of memory, a crash): say why before it goes.
            container = await self.ended_container()
            if container is not None:
                self.exit_report(self.user.name, container)
        return status

    async def ended_container(self) -> dict[str, Any] | None:
        """The lab's container as Docker inspects it (State, HostConfig), None when gone."""
        return await self.get_object()

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        # What this container really gets (2 resolves to 0 or 1), as the lab images expect.
        env["ENABLE_GPU_SUPPORT"] = "1" if self.gpu_enabled else "0"
        env["NVIDIA_DETECTED"] = "1" if self.gpu_detected else "0"
        # What the lab's own resource displays read (JupyterHub's names).
        if self.lab_memory:
            env["MEM_LIMIT"] = str(self.lab_memory)
        if self.lab_cpus:
            env["CPU_LIMIT"] = f"{self.lab_cpus:g}"
        return env

    async def get_ip_and_port(self) -> tuple[str, int]:
        if self.host_network:
            return "127.0.0.1", self.port
        return await super().get_ip_and_port()

    def docker(self, method: str, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """DockerSpawner's calls (APIClient methods by name), run by the portal's DockerService
        in its bounded pool instead of DockerSpawner's own."""
        if method == "create_container":
            host_config = kwargs.setdefault("host_config", {})
            self.enforce_host_config(host_config)
            # A dropped bind leaves no mount point behind (Docker would put an anonymous
            # volume there).
            bound = {b.split(":")[1] for b in host_config["Binds"] if b.count(":") >= 1}
            if kwargs.get("volumes"):
                kwargs["volumes"] = [v for v in kwargs["volumes"] if v in bound]
            kwargs["labels"] = with_watchtower_opt_out(kwargs.get("labels"))
        # docker-py's pull reads without a timeout: the hub's own start timeout bounds it.
        bound = float(self.start_timeout) if method == "pull" else None
        return self.docker_service.api_call(method, args, kwargs, bound=bound)

    def enforce_host_config(self, host_config: dict[str, Any]) -> None:
        """Last word before Docker: access from groups, GPUs from the hub's decision."""
        sock, privileged = self.docker_access()
        dropped = enforce_host_config(host_config, docker_socket=sock, privileged=privileged,
                                      gpu=self.gpu_enabled, memory=self.lab_memory,
                                      cpus=self.lab_cpus)
        if dropped:
            self.log.warning("Container for %s: left out (they reach the Docker engine): %s",
                             self.user.name, "; ".join(dropped))
        self.log.info(
            "Container for %s: docker socket %s, privileged %s, gpu %s, memory %s, cpus %s",
            self.user.name,
            *("yes" if flag else "no" for flag in (sock, privileged, self.gpu_enabled)),
            self.lab_memory or "no limit", self.lab_cpus or "no limit",
        )

    async def delete_forever(self) -> None:
        """JupyterHub calls this when the user is deleted (admin page, REST API), after stop."""
        if self.account_deleted is not None:
            await self.account_deleted(self)

    def clear_state(self) -> None:
        super().clear_state()
        self._set_phase(0, "")
