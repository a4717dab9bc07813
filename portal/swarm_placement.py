"""Owns where Swarm labs go: the node list, each node's engine, placement of a first start.

A mixin of PortalSwarmSpawner (portal/swarm.py): it uses the spawner's manager client
(`self.docker`), its user's volumes and its state (`swarm_node`, `swarm_node_title`).
"""

from __future__ import annotations

import asyncio
import time

from docker.errors import APIError
from requests.exceptions import RequestException

from . import swarm_nodes as nodes
from .docker_service import DockerService, DockerUnavailable

NODE_TTL = 5.0  # seconds a node listing is trusted (every card poll would ask otherwise)


class SwarmRefused(RuntimeError):
    """A start this Swarm cannot honour; the message is shown on the card as it is."""


class NodePlacement:
    """Node lookups (cached briefly) and the choice of a node at a first start."""

    _nodes_cache: tuple[float, list[nodes.Node]] = (0.0, [])
    _own_node_id = ""
    _placing: dict[str, int] = {}  # noqa: RUF012 (class-wide: labs being placed, per node)
    _place_lock: asyncio.Lock | None = None
    _fallback_docker: DockerService | None = None

    # --- nodes -------------------------------------------------------------------------------
    async def _nodes(self, fresh: bool = False) -> list[nodes.Node]:
        cls = type(self)
        at, cached = cls._nodes_cache
        if fresh or time.monotonic() - at > NODE_TTL:
            try:
                if not cls._own_node_id:
                    cls._own_node_id = (await self.docker("info"))["Swarm"]["NodeID"]
                raw = await self.docker("nodes")
            except (APIError, RequestException, OSError) as e:
                raise DockerUnavailable(f"the Swarm manager did not answer ({e})") from None
            url = nodes.manager_url()
            cached = [nodes.parse_node(n, cls._own_node_id, url) for n in raw]
            cls._nodes_cache = (time.monotonic(), cached)
        return cached

    async def _node(self, node_id: str) -> nodes.Node:
        for fresh in (False, True):
            for node in await self._nodes(fresh):
                if node.id == node_id:
                    return node
        raise DockerUnavailable(f"node {self.placement()} is no longer part of the swarm")

    def _hub_docker(self) -> DockerService:
        """The portal's client of the hub's own engine (a private one without the portal)."""
        runtime = (getattr(self.user, "settings", None) or {}).get("dshub_portal")
        if runtime is not None:
            return runtime.docker
        cls = type(self)
        if cls._fallback_docker is None:
            cls._fallback_docker = DockerService(workers=2)
        return cls._fallback_docker

    def _engine(self, node: nodes.Node, default: DockerService) -> DockerService:
        if not node.engine_url:
            raise DockerUnavailable(
                f"the hub cannot reach node {node.title}: it has no {nodes.ENGINE_LABEL} label"
            )
        return nodes.engine(node.engine_url, default, nodes.manager_url())

    async def _reachable_engine(self, default: DockerService) -> tuple[nodes.Node, DockerService]:
        node = await self._node(self.swarm_node)
        engine = self._engine(node, default)
        try:
            await engine.ping()
        except DockerUnavailable as e:
            raise nodes.unreachable(node, e) from None
        return node, engine

    async def _place(self) -> nodes.Node:
        cls = type(self)
        if cls._place_lock is None:
            cls._place_lock = asyncio.Lock()
        async with cls._place_lock:  # two first starts must not both pick the emptiest node
            if self.swarm_node:
                node = await self._node(self.swarm_node)
                if not (node.ready and node.active):
                    why = "down" if not node.ready else "drained or paused by an admin"
                    raise SwarmRefused(
                        f"Your volumes are on node {node.title}, which is {why}. Your lab is not "
                        "started elsewhere (it would start empty); try again when it is back."
                    )
            else:
                node = await self._node_with_volumes() or await self._least_loaded()
            self.swarm_node, self.swarm_node_title = node.id, node.title
            cls._placing[node.id] = cls._placing.get(node.id, 0) + 1
        self._set_phase(30, f"Placing your lab on node {node.title}")
        return node

    async def _least_loaded(self) -> nodes.Node:
        # Every service, counted by its label here: the engine's label filter is not relied on.
        services = await self.docker("services")
        load = nodes.lab_load(services)
        for node_id, n in type(self)._placing.items():
            load[node_id] = load.get(node_id, 0) + n
        node = nodes.choose_node(await self._nodes(fresh=True), load)
        if node is None:
            raise SwarmRefused("No swarm node can take a lab now (none is ready and active).")
        return node

    async def _node_with_volumes(self) -> nodes.Node | None:
        """The node already holding this user's volumes (a hub whose state was lost)."""
        names = [v.name for v in self.owned_volumes()]
        holders = []
        for node in await self._nodes():
            if not node.engine_url or not node.ready:
                continue
            engine = self._engine(node, self._hub_docker())
            try:
                if set(names) & await engine.existing_volumes():
                    holders.append(node)
            except DockerUnavailable as e:
                self.log.warning("Looking for %s's volumes on %s: %s", self.user.name,
                                 node.title, e)
        if len(holders) > 1:
            raise SwarmRefused(
                "Your volumes exist on several nodes ("
                + ", ".join(n.title for n in holders)
                + "). An admin must keep one set before your lab can start."
            )
        return holders[0] if holders else None
