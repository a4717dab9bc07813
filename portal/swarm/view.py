"""Owns what the hub knows of its swarm while it runs: the node listing (trusted briefly), the
manager's own node, the labs being placed, and one DockerService per node engine.

One SwarmView per hub, over its manager engine (the portal's DockerService): build_runtime
makes it (`Runtime.swarm`) and portal.setup(c) hands it to every spawner, so a first start
counts the labs still being placed and two never both pick the emptiest node. Environments ask
it which engines an image must be on (`image_engines`).
"""

from __future__ import annotations

import asyncio
import time

from docker.errors import APIError

from ..docker.service import DockerService
from ..docker.swarm import node_client
from ..docker.types import DockerUnavailable
from . import nodes

NODE_TTL = 5.0  # seconds a node listing is trusted (every card poll would ask otherwise)


class SwarmView:
    """The swarm as the manager's engine describes it, and how to reach each node's engine."""

    def __init__(self, manager: DockerService, manager_url: str) -> None:
        self.manager = manager
        self.manager_url = manager_url
        self.placing: dict[str, int] = {}  # node ID -> labs being placed there now
        self.place_lock = asyncio.Lock()  # two first starts must not both pick one node
        self._own_node_id = ""
        self._listing: tuple[float, list[nodes.Node]] = (float("-inf"), [])
        self._engines: dict[str, DockerService] = {}

    async def nodes(self, fresh: bool = False) -> list[nodes.Node]:
        at, listing = self._listing
        if fresh or time.monotonic() - at > NODE_TTL:
            try:
                if not self._own_node_id:
                    self._own_node_id = await self.manager.swarm_node_id()
                raw = await self.manager.swarm_nodes()
            except (APIError, DockerUnavailable) as e:
                raise DockerUnavailable(f"the Swarm manager did not answer ({e})") from None
            listing = [nodes.parse_node(n, self._own_node_id, self.manager_url) for n in raw]
            self._listing = (time.monotonic(), listing)
        return listing

    async def image_engines(self) -> list[tuple[str, DockerService]]:
        """Where an environment's image must be: every node that takes labs, with its engine."""
        return [(f"Swarm node {n.title}", self.engine(n)) for n in await self.nodes(fresh=True)
                if n.usable]

    def engine(self, node: nodes.Node) -> DockerService:
        """The node's engine: the manager's own service for its URL, one kept per other node."""
        if not node.engine_url:
            raise DockerUnavailable(
                f"the hub cannot reach node {node.title}: it has no {nodes.ENGINE_LABEL} label"
            )
        url = node.engine_url
        if url == self.manager_url:
            return self.manager
        found = self._engines.get(url)
        if found is None:
            found = self._engines[url] = DockerService(client_factory=lambda: node_client(url),
                                                       workers=4)
        return found
