"""Owns what a Swarm lab's service is made of: its mounts, node, socket, limits and GPUs.

Functions the Swarm spawner calls: the service's name (Swarm's length rule), the last word on
the `create_service` call, like container_policy's on `create_container` (docker access from
groups, limits from the groups' rule). Swarm has no memory-swap setting: the task's container
gets the engine's default (docs/scale-out.md says what that is).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from logging import Logger
from typing import Any

from docker.types import DriverConfig, Mount

from ..docker.types import DOCKER_SOCKET
from ..lab.container_policy import WATCHTOWER_LABEL, safe_mounts
from . import nodes

# Swarm refuses a longer service name ("name must be 63 characters or fewer": a DNS label).
SERVICE_NAME_MAX = 63
_DIGEST = 8  # hex digits of the full name's hash that keep shortened names apart


def service_name(name: str) -> str:
    """The container name template's result as a Swarm service may be called: as it is when
    short enough, else cut and ended by a hash of the whole name. A named server's name
    (`jupyterlab-{user}--{server}`, up to 30 characters of server) passes 63 with a user name
    of 21 characters; on one engine a container name has no such limit."""
    if len(name) <= SERVICE_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST]
    return f"{name[:SERVICE_NAME_MAX - _DIGEST - 1]}-{digest}"


def driver_config(volume: str, driver: str, options: Mapping[str, Any] | None
                  ) -> DriverConfig | None:
    """Shared storage (a driver or options configured): the volume's driver, `{volume}` in an
    option replaced by its name; None for node-local volumes (the local driver as is)."""
    if not (driver or options):
        return None
    named = {k: str(v).replace("{volume}", volume) for k, v in (options or {}).items()}
    return DriverConfig(name=driver or "local", options=named or None)


def service_mounts(volume_binds: Mapping[str, dict[str, str]],
                   driver: Callable[[str], DriverConfig | None]) -> list[Mount]:
    """Named volumes as volume mounts (SwarmSpawner makes every mount a bind)."""
    result = []
    for source, bind in volume_binds.items():
        named = not source.startswith("/")
        result.append(Mount(
            target=bind["bind"], source=source, type="volume" if named else "bind",
            read_only=bind["mode"] == "ro", driver_config=driver(source) if named else None,
        ))
    return result


@dataclass(frozen=True)
class LabGrants:
    """What this start's lab gets: Docker socket, limits (bytes, CPUs; None: none), GPUs."""

    docker_socket: bool
    memory: int | None
    cpus: float | None
    gpu_resource: str  # the generic resource to reserve; "" for none


def finish_service(kwargs: dict[str, Any], node: nodes.Node, grants: LabGrants, pinned: bool,
                   log: Logger, user: str) -> None:
    """Last word before Docker (kwargs, in place): node, socket and GPU come from placement,
    groups and settings."""
    template = kwargs["task_template"]
    spec = template["ContainerSpec"]
    # The single-engine policy, word for word: the socket in any spelling, /run, /var, /,
    # `..`, and local volumes whose `device` is such a path never come from configuration.
    mounts, dropped = safe_mounts(spec.get("Mounts") or [])
    if dropped:
        log.warning("Service for %s: left out (they reach the Docker engine): %s", user,
                    "; ".join(dropped))
    if grants.docker_socket:
        mounts.append(Mount(target=DOCKER_SOCKET, source=node.socket_path, type="bind"))
    spec["Mounts"] = mounts
    spec["Labels"] = {**(spec.get("Labels") or {}), WATCHTOWER_LABEL: "false"}
    # A lab that ends (out of memory, a crash) stays ended, as a container on one engine:
    # the hub notices, the card says why, Start brings it back (Swarm's default would start
    # it again behind the hub's back).
    template["RestartPolicy"] = {"Condition": "none"}
    if pinned:
        placement = template.setdefault("Placement", {})
        placement["Constraints"] = [*(placement.get("Constraints") or []), f"node.id=={node.id}"]
    resources = template.setdefault("Resources", {})
    # The groups' limits, whatever the configuration said (as on one engine). Swarm has no
    # memory-swap setting: see docs/scale-out.md for what the task's container gets.
    limits = {k: v for k, v in (resources.get("Limits") or {}).items()
              if k not in ("MemoryBytes", "NanoCPUs")}
    if grants.memory:
        limits["MemoryBytes"] = grants.memory
    if grants.cpus:
        limits["NanoCPUs"] = round(grants.cpus * 1e9)
    resources["Limits"] = limits
    if grants.gpu_resource:
        resources.setdefault("Reservations", {})["GenericResources"] = [
            {"DiscreteResourceSpec": {"Kind": grants.gpu_resource, "Value": 1}}
        ]
    kwargs["labels"] = {**(kwargs.get("labels") or {}), nodes.NODE_LABEL: node.id}
    log.info("Service for %s on node %s: docker socket %s, gpu %s, memory %s, cpus %s", user,
             node.title, "yes" if grants.docker_socket else "no",
             "yes" if grants.gpu_resource else "no", grants.memory or "no limit",
             grants.cpus or "no limit")
