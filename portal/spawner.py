"""The DockerSpawner used in every mode, and the one place that knows Docker object names.

- Container `jupyterlab-{username}` and the user's volumes are rendered by DockerSpawner's own
  templating (escaped user names), never rebuilt from strings elsewhere: ask `owned_volumes()`.
- `DOCKER_NETWORK_NAME=host` (tests, local runs): each server listens on its own loopback port,
  kept in the spawner state so it survives a hub restart.
- Docker access (groups `docker-sock`, `docker-privileged`) and GPU requests are enforced on the
  final create call: the socket bind and the privileged flag follow group membership whatever
  the volumes or extra_host_config say; binds reaching the engine (checked by normalised path,
  portal/container_policy.py) never come from configuration. (Other host settings, e.g.
  capabilities or devices, are the admin's configuration and are not filtered.)
- A container is removed on every stop and before every create, whatever `remove` says: a kept
  container would start again with the grants it was created with (see SECURITY.md).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port
from traitlets import Bool, Callable, Dict, Int, Unicode, default, validate

from .access_names import PRIVILEGED_GROUP, SOCK_GROUP
from .container_policy import enforce_host_config, with_watchtower_opt_out
from .upstream import spawn_pending

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

    # Injected by portal.setup(c), so the spawner never reaches into the hub's settings.
    start_guard = Callable(
        None, allow_none=True,
        help="f(user name) -> why the server may not start now, or None (e.g. a volume reset).",
    ).tag(config=True)
    gpu_decision = Callable(
        None, allow_none=True,
        help="async f() -> (request GPUs?, were they detected?): the hub-wide GPU decision.",
    ).tag(config=True)

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

    def docker_access(self) -> tuple[bool, bool]:
        """(socket, privileged) as granted by the user's current group membership."""
        groups = {g.name for g in self.user.groups}
        return SOCK_GROUP in groups, PRIVILEGED_GROUP in groups

    async def start(self) -> tuple[str, int]:
        # Every way to start (portal, /hub/spawn, REST API) meets the same rule: not while the
        # portal resets this user's volumes.
        refusal = self.start_guard(self.user.name) if self.start_guard else None
        if refusal:
            raise RuntimeError(refusal)
        self.force_removal()  # DockerSpawner then removes a leftover container before creating
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
        if self.keep_failed_containers and self._never_ran:
            self._never_ran = False
            self.log.warning("Keeping container %s, whose start failed (keep_failed_containers); "
                             "the next start removes it", self.object_name)
            self.clear_state()
            return
        self.force_removal()
        await super().stop(now)

    async def progress(self):  # noqa: ANN201 (an async generator, as JupyterHub expects)
        seen = ""
        while spawn_pending(self):
            if self.phase and self.phase != seen:
                seen = self.phase
                yield {"progress": self.phase_progress, "message": self.phase}
            await asyncio.sleep(0.25)

    async def _follow_gpu_decision(self) -> None:
        """Take the hub's GPU decision, waiting for a detection still running (it is bounded)."""
        if self.gpu_decision is None:
            return  # no portal (unit tests, plain use): the trait decides
        self.gpu_enabled, self.gpu_detected = await self.gpu_decision()

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
            host_config = kwargs.setdefault("host_config", {})
            self.enforce_host_config(host_config)
            # A dropped bind leaves no mount point behind (Docker would put an anonymous
            # volume there).
            bound = {b.split(":")[1] for b in host_config["Binds"] if b.count(":") >= 1}
            if kwargs.get("volumes"):
                kwargs["volumes"] = [v for v in kwargs["volumes"] if v in bound]
            kwargs["labels"] = with_watchtower_opt_out(kwargs.get("labels"))
        return super().docker(method, *args, **kwargs)

    def enforce_host_config(self, host_config: dict[str, Any]) -> None:
        """Last word before Docker: access from groups, GPUs from the hub's decision."""
        sock, privileged = self.docker_access()
        dropped = enforce_host_config(host_config, docker_socket=sock, privileged=privileged,
                                      gpu=self.gpu_enabled)
        if dropped:
            self.log.warning("Container for %s: left out (they reach the Docker engine): %s",
                             self.user.name, "; ".join(dropped))
        self.log.info(
            "Container for %s: docker socket %s, privileged %s, gpu %s", self.user.name,
            *("yes" if flag else "no" for flag in (sock, privileged, self.gpu_enabled)),
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
