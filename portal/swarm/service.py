"""Owns what a Swarm lab's service is made of: its mounts, node, socket, limits and GPUs, and
its volumes, created on the chosen node.

A mixin of PortalSwarmSpawner (portal/swarm/spawner.py): the last word on the `create_service` call,
like PortalSpawner's on `create_container` (docker access from groups, limits from the groups'
rule). Swarm has no memory-swap setting: the task's container gets the engine's default
(docs/scale-out.md says what that is).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from docker.types import DriverConfig, Mount

from ..docker.types import DOCKER_SOCKET
from ..lab.container_policy import WATCHTOWER_LABEL, safe_mounts
from ..lab.volume_owners import VolumeDriver, claim_volumes
from . import nodes


class ServiceSpec:
    """Mounts, the create_service call's final spec, and the volumes' claim on the node."""

    @property
    def shared_storage(self) -> bool:
        return bool(self.volume_driver or self.volume_driver_options)

    async def claim_user_volumes(self) -> None:
        """Not yet at start: on the manager they would be volumes on the wrong node (and the
        placement would then find them there). `_claim_on` does it once the node is chosen."""

    async def _claim_on(self, node: nodes.Node) -> None:
        def driver(volume: str) -> VolumeDriver:
            config = self._driver_config(volume) or {}
            return config.get("Name"), config.get("Options")

        await claim_volumes(self._engine(node), self.owned_volumes(), self.user,
                            driver if self.shared_storage else None)

    @property
    def mounts(self) -> list[Mount]:
        """Named volumes as volume mounts (SwarmSpawner makes every mount a bind)."""
        result = []
        for source, bind in self.volume_binds.items():
            named = not source.startswith("/")
            result.append(Mount(
                target=bind["bind"], source=source, type="volume" if named else "bind",
                read_only=bind["mode"] == "ro",
                driver_config=self._driver_config(source) if named else None,
            ))
        return result

    def _driver_config(self, volume: str) -> DriverConfig | None:
        if not self.shared_storage:
            return None
        options = {k: str(v).replace("{volume}", volume)
                   for k, v in (self.volume_driver_options or {}).items()}
        return DriverConfig(name=self.volume_driver or "local", options=options or None)

    def docker(self, method: str, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        if method == "create_service":
            self._finish_service(kwargs)
        return super().docker(method, *args, **kwargs)

    def _finish_service(self, kwargs: dict[str, Any]) -> None:
        """Last word before Docker: node, socket and GPU come from placement, groups, settings."""
        node: nodes.Node = self._target
        template = kwargs["task_template"]
        spec = template["ContainerSpec"]
        # The single-engine policy, word for word: the socket in any spelling, /run, /var, /,
        # `..`, and local volumes whose `device` is such a path never come from configuration.
        mounts, dropped = safe_mounts(spec.get("Mounts") or [])
        if dropped:
            self.log.warning("Service for %s: left out (they reach the Docker engine): %s",
                             self.user.name, "; ".join(dropped))
        sock, _ = self.docker_access()
        if sock:
            mounts.append(Mount(target=DOCKER_SOCKET, source=node.socket_path, type="bind"))
        spec["Mounts"] = mounts
        spec["Labels"] = {**(spec.get("Labels") or {}), WATCHTOWER_LABEL: "false"}
        # A lab that ends (out of memory, a crash) stays ended, as a container on one engine:
        # the hub notices, the card says why, Start brings it back (Swarm's default would start
        # it again behind the hub's back).
        template["RestartPolicy"] = {"Condition": "none"}
        if not self.shared_storage:
            placement = template.setdefault("Placement", {})
            placement["Constraints"] = [*(placement.get("Constraints") or []),
                                        f"node.id=={node.id}"]
        resources = template.setdefault("Resources", {})
        # The groups' limits, whatever the configuration said (as on one engine). Swarm has no
        # memory-swap setting: see docs/scale-out.md for what the task's container gets.
        limits = {k: v for k, v in (resources.get("Limits") or {}).items()
                  if k not in ("MemoryBytes", "NanoCPUs")}
        if self.lab_memory:
            limits["MemoryBytes"] = self.lab_memory
        if self.lab_cpus:
            limits["NanoCPUs"] = round(self.lab_cpus * 1e9)
        resources["Limits"] = limits
        if self.gpu_enabled:
            resources.setdefault("Reservations", {})["GenericResources"] = [
                {"DiscreteResourceSpec": {"Kind": self.gpu_generic_resource, "Value": 1}}
            ]
        kwargs["labels"] = {**(kwargs.get("labels") or {}), nodes.NODE_LABEL: node.id}
        self.log.info(
            "Service for %s on node %s: docker socket %s, gpu %s, memory %s, cpus %s",
            self.user.name, node.title, "yes" if sock else "no",
            "yes" if self.gpu_enabled else "no", self.lab_memory or "no limit",
            self.lab_cpus or "no limit",
        )
