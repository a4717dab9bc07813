"""The DockerSpawner used in every mode, and the one place that knows Docker object names.

- Container `jupyterlab-{username}` and the user's volumes are rendered by DockerSpawner's own
  templating (escaped user names), never rebuilt from strings elsewhere: ask `owned_volumes()`.
- `DOCKER_NETWORK_NAME=host` (tests, local runs): each server listens on its own loopback port,
  kept in the spawner state so it survives a hub restart.
- Docker access (groups `docker-sock`, `docker-privileged`) and GPU requests are enforced on the
  final create call: the socket bind and the privileged flag follow group membership whatever
  the volumes or extra_host_config say. (Other host settings, e.g. capabilities or devices, are
  the admin's configuration and are not filtered.)
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port
from traitlets import Bool, Dict, Int, Unicode, default

from .docker_service import DOCKER_SOCKET, ContainerInfo, DockerService, is_socket_path

SOCK_GROUP = "docker-sock"
PRIVILEGED_GROUP = "docker-privileged"
NVIDIA_DEVICES = {"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}
# Watchtower must never recreate a lab under its user, whatever scope it runs with.
WATCHTOWER_LABEL = "com.centurylinklabs.watchtower.enable"

# DockerSpawner's own pool has one thread, so one slow stop would queue every other user's call.
_docker_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="docker-spawner")


@dataclass(frozen=True)
class UserVolume:
    """One of a user's own volumes: its key, real Docker name, mount path and description."""

    key: str
    name: str
    mount: str
    description: str


class PortalSpawner(DockerSpawner):
    user_volumes = Dict(
        default_value={
            "home": "/home",
            "workspace": "/home/lab/workspace",
            "cache": "/home/lab/.cache",
        },
        help="The user's own volumes: key -> mount path. Users may reset these.",
    ).tag(config=True)

    volume_name_template = Unicode(
        "jupyterlab-{username}_{volume}",
        help="Docker name of a user volume; {volume} is its key, {username} the escaped name.",
    ).tag(config=True)

    shared_volume_name = Unicode(
        "jupyterhub_shared", help="Volume every user sees; never resettable from the portal."
    ).tag(config=True)

    shared_volume_mount = Unicode("/mnt/shared", help="Where the shared volume is mounted.").tag(
        config=True
    )

    volume_descriptions = Dict(
        default_value={
            "home": "Your home directory: settings, shell history, installed tools",
            "workspace": "Your projects and notebooks",
            "cache": "Downloaded packages and models; safe to reset",
            "shared": "Shared with every user of the hub",
        },
        help="One-line description per volume key (and 'shared'), shown in the portal.",
    ).tag(config=True)

    gpu_enabled = Bool(
        False,
        help="Request all NVIDIA GPUs for the container. With the portal set up, each start "
        "follows the hub's decision (ENABLE_GPU_SUPPORT, detection at hub start).",
    ).tag(config=True)

    gpu_detected = Bool(False, help="The hub's probe found NVIDIA GPUs (NVIDIA_DETECTED=1).")

    host_port = Int(0, help="Loopback port of this server in host-network mode (state).")

    @default("name_template")
    def _name_template_default(self) -> str:
        return "jupyterlab-{username}"

    @default("volumes")
    def _volumes_default(self) -> dict[str, str]:
        binds = {
            self.volume_name_template.replace("{volume}", key): path
            for key, path in self.user_volumes.items()
        }
        binds[self.shared_volume_name] = self.shared_volume_mount
        return binds

    @property
    def executor(self) -> ThreadPoolExecutor:
        return _docker_pool

    @property
    def host_network(self) -> bool:
        return self.network_name == "host"

    def owned_volumes(self) -> list[UserVolume]:
        """This user's own volumes with their real (escaped) Docker names."""
        return [
            UserVolume(
                key=key,
                name=self.format_volume_name(
                    self.volume_name_template.replace("{volume}", key), self
                ),
                mount=path,
                description=self.volume_descriptions.get(key, ""),
            )
            for key, path in self.user_volumes.items()
        ]

    def shared_volume(self) -> UserVolume:
        return UserVolume(
            key="shared",
            name=self.shared_volume_name,
            mount=self.shared_volume_mount,
            description=self.volume_descriptions.get("shared", ""),
        )

    # Where the lab lives, for the portal's services; Swarm mode overrides these (portal/swarm.py).
    async def lab_engine(self, docker: DockerService) -> DockerService:
        """The engine holding this user's volumes and container: on one engine, the hub's."""
        return docker

    async def lab_container(self, docker: DockerService) -> ContainerInfo:
        return await docker.container(self.object_name)

    async def restart_lab(self, docker: DockerService) -> None:
        """Docker restart: the same container and volumes."""
        await docker.restart(self.object_name)

    def placement(self) -> str:
        """The node the lab is pinned to, shown to admins; empty on one engine."""
        return ""

    def docker_access(self) -> tuple[bool, bool]:
        """(socket, privileged) as granted by the user's current group membership."""
        groups = {g.name for g in self.user.groups}
        return SOCK_GROUP in groups, PRIVILEGED_GROUP in groups

    async def start(self) -> tuple[str, int]:
        # Every way to start (portal, /hub/spawn, REST API) meets the same rule: not while the
        # portal resets this user's volumes.
        runtime = (getattr(self.user, "settings", None) or {}).get("dshub_portal")
        op = runtime.operations.current(self.user.name) if runtime is not None else None
        if op is not None and op.kind == "resetting volumes":
            raise RuntimeError("Your volumes are being reset; start again when that finishes.")
        self._set_phase(5, "Preparing your server")
        await self._follow_gpu_decision()
        if self.host_network:
            # Every server on the host network needs its own port; the hub reaches it on loopback.
            self.host_port = random_port()
            self.port = self.host_port
            self.ip = "127.0.0.1"
            self.use_internal_ip = True
        address = await super().start()
        self._set_phase(80, "Waiting for JupyterLab to answer")
        return address

    # Spawn progress: the phases of DockerSpawner.start(), for the hub's progress API (its own
    # spawn page) and for the portal's card.
    phase = ""
    phase_progress = 0

    def _set_phase(self, progress: int, message: str) -> None:
        self.phase_progress, self.phase = progress, message

    async def pull_image(self, image: str) -> None:
        self._set_phase(15, "Checking the lab image")
        await super().pull_image(image)

    async def create_object(self) -> dict[str, Any]:
        self._set_phase(35, "Creating your container")
        return await super().create_object()

    async def start_object(self) -> None:
        self._set_phase(55, "Starting your container")
        await super().start_object()

    async def progress(self):  # noqa: ANN201 (an async generator, as JupyterHub expects)
        seen = ""
        while self._spawn_pending:
            if self.phase and self.phase != seen:
                seen = self.phase
                yield {"progress": self.phase_progress, "message": self.phase}
            await asyncio.sleep(0.25)

    async def _follow_gpu_decision(self) -> None:
        """Take the hub's GPU decision, waiting for a detection still running (it is bounded)."""
        runtime = (getattr(self.user, "settings", None) or {}).get("dshub_portal")
        if runtime is None:
            return  # no portal (unit tests, plain use): the trait decides
        from .gpu import is_detected, settled  # here: gpu -> runtime -> access_groups -> spawner

        status = await settled(runtime)
        self.gpu_enabled = status.enabled
        self.gpu_detected = is_detected(status)

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        # What this container really gets (2 resolves to 0 or 1), as the lab images expect.
        env["ENABLE_GPU_SUPPORT"] = "1" if self.gpu_enabled else "0"
        env["NVIDIA_DETECTED"] = "1" if self.gpu_detected else "0"
        return env

    async def get_ip_and_port(self) -> tuple[str, int]:
        if self.host_network:
            return "127.0.0.1", self.port
        return await super().get_ip_and_port()

    def docker(self, method: str, *args: Any, **kwargs: Any):
        if method == "create_container":
            self._enforce_host_config(kwargs.setdefault("host_config", {}))
            labels = kwargs.get("labels")
            labels = dict(labels) if isinstance(labels, dict) else dict.fromkeys(labels or [], "")
            kwargs["labels"] = {**labels, WATCHTOWER_LABEL: "false"}
        return super().docker(method, *args, **kwargs)

    def _enforce_host_config(self, host_config: dict[str, Any]) -> None:
        """Last word before Docker: access and GPU come from groups and settings only."""
        sock, privileged = self.docker_access()
        binds = [b for b in host_config.get("Binds") or [] if not _mounts_socket(b)]
        mounts = [
            m for m in host_config.get("Mounts") or [] if not is_socket_path(m.get("Source") or "")
        ]
        if sock:
            binds.append(f"{DOCKER_SOCKET}:{DOCKER_SOCKET}:rw")
        host_config["Binds"] = binds
        host_config["Mounts"] = mounts
        host_config["Privileged"] = privileged
        # Keep the container on stop so `docker restart` keeps it; the hub removes it on stop.
        host_config["AutoRemove"] = False
        requests = [
            r for r in host_config.get("DeviceRequests") or [] if r.get("Driver") != "nvidia"
        ]
        if self.gpu_enabled:
            requests.append(dict(NVIDIA_DEVICES))
        host_config["DeviceRequests"] = requests or None
        self.log.info(
            "Container for %s: docker socket %s, privileged %s, gpu %s",
            self.user.name, "yes" if sock else "no", "yes" if privileged else "no",
            "yes" if self.gpu_enabled else "no",
        )

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if self.host_network and self.host_port:
            state["host_port"] = self.host_port
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        if state.get("host_port"):
            self.host_port = self.port = int(state["host_port"])

    def clear_state(self) -> None:
        super().clear_state()
        self.host_port = 0
        self._set_phase(0, "")




def _mounts_socket(bind: str) -> bool:
    return any(is_socket_path(p) for p in bind.split(":")[:2])
