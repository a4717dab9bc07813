"""Owns Swarm nodes as the portal sees them: which take labs, how to reach each one's engine.

User volumes are node-local, so the hub talks to the engine of the node that holds them (sizes,
reset, the Docker socket a lab gets). A node tells the hub where its engine is with the node
label `dshub.engine` (a Docker host URL, e.g. `tcp://node2:2376`, TLS from DOCKER_CERT_PATH
like the manager's); the manager the hub already talks to (DOCKER_HOST) needs no label. Nodes
labelled `dshub.labs=false` never get new labs. See docs/scale-out.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..docker.types import DOCKER_SOCKET, DockerUnavailable

ENGINE_LABEL = "dshub.engine"  # node label: Docker host URL of that node's engine
LABS_LABEL = "dshub.labs"  # node label: "false" keeps new labs off the node
NODE_LABEL = "dshub.node"  # service label: the node ID a lab is pinned to
LOCAL_ENGINE = "unix://" + DOCKER_SOCKET


@dataclass(frozen=True)
class Node:
    """One swarm node, from the manager's `docker node inspect`."""

    id: str
    hostname: str
    addr: str
    ready: bool  # Status.State == ready (the manager hears from it)
    active: bool  # Availability == active (not paused or drained)
    engine_url: str  # where the hub reaches its engine; "" when unknown
    takes_labs: bool

    @property
    def title(self) -> str:
        """How admins see the node: its name and the address the manager sees it at."""
        return f"{self.hostname} ({self.addr})" if self.addr else self.hostname or self.id[:12]

    @property
    def usable(self) -> bool:
        return self.ready and self.active and self.takes_labs and bool(self.engine_url)

    @property
    def socket_path(self) -> str:
        """The engine socket on that node's own file system (what the docker-sock group gets)."""
        if self.engine_url.startswith("unix://"):
            return self.engine_url[len("unix://"):]
        return DOCKER_SOCKET


def manager_url(environ: Mapping[str, str] | None = None) -> str:
    """The engine the hub itself talks to (DOCKER_HOST, as docker-py reads it)."""
    env = os.environ if environ is None else environ
    return env.get("DOCKER_HOST") or LOCAL_ENGINE


def parse_node(data: dict[str, Any], own_node_id: str, own_url: str) -> Node:
    spec = data.get("Spec") or {}
    labels = spec.get("Labels") or {}
    status = data.get("Status") or {}
    url = labels.get(ENGINE_LABEL, "")
    if not url and data.get("ID") == own_node_id:
        url = own_url
    return Node(
        id=data["ID"],
        # A node name an admin gave (docker node update) beats the host name.
        hostname=spec.get("Name") or (data.get("Description") or {}).get("Hostname", ""),
        addr=status.get("Addr", ""),
        ready=status.get("State") == "ready",
        active=spec.get("Availability") == "active",
        engine_url=url,
        takes_labs=labels.get(LABS_LABEL, "true").lower() != "false",
    )


def choose_node(nodes: Iterable[Node], load: Mapping[str, int]) -> Node | None:
    """The usable node running the fewest labs (ties: the lowest address, then ID)."""
    usable = [n for n in nodes if n.usable]
    if not usable:
        return None
    return min(usable, key=lambda n: (load.get(n.id, 0), n.addr, n.id))


def lab_load(services: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Labs per node, from the `dshub.node` label of the lab services."""
    load: dict[str, int] = {}
    for service in services:
        node = ((service.get("Spec") or {}).get("Labels") or {}).get(NODE_LABEL)
        if node:
            load[node] = load.get(node, 0) + 1
    return load


def unreachable(node: Node, why: Exception | str) -> DockerUnavailable:
    """The error the card shows when a lab's node does not answer."""
    return DockerUnavailable(f"node {node.title} is unreachable ({why})")
