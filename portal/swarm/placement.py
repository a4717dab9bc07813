"""Owns where Swarm labs go: placement of a first start, and the engine of a lab's node.

A mixin of PortalSwarmSpawner (portal/swarm/spawner.py): it uses the hub's SwarmView
(portal/swarm/view.py, through the spawner's DockerService), its user's volumes and its state
(`swarm_node`, `swarm_node_title`).
"""

from __future__ import annotations

from ..docker.service import DockerService, DockerUnavailable
from . import nodes
from .view import SwarmView, swarm_view


class SwarmRefused(RuntimeError):
    """A start this Swarm cannot honour; the message is shown on the card as it is."""


class NodePlacement:
    """Node lookups and the choice of a node at a first start, on the hub's SwarmView."""

    # --- nodes -------------------------------------------------------------------------------
    @property
    def swarm(self) -> SwarmView:
        """The hub's one view of the swarm, through the spawner's DockerService (the manager)."""
        return swarm_view(self.docker_service)

    async def _nodes(self, fresh: bool = False) -> list[nodes.Node]:
        return await self.swarm.nodes(fresh)

    async def _node(self, node_id: str) -> nodes.Node:
        for fresh in (False, True):
            for node in await self._nodes(fresh):
                if node.id == node_id:
                    return node
        raise DockerUnavailable(f"node {self.placement()} is no longer part of the swarm")

    def _engine(self, node: nodes.Node) -> DockerService:
        return self.swarm.engine(node)

    async def _reachable_engine(self) -> tuple[nodes.Node, DockerService]:
        node = await self._node(self.swarm_node)
        engine = self._engine(node)
        try:
            await engine.ping()
        except DockerUnavailable as e:
            raise nodes.unreachable(node, e) from None
        return node, engine

    async def _place(self) -> nodes.Node:
        swarm = self.swarm
        async with swarm.place_lock:  # two first starts must not both pick the emptiest node
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
            swarm.placing[node.id] = swarm.placing.get(node.id, 0) + 1
        self._set_phase(30, f"Placing your lab on node {node.title}")
        return node

    def _placed(self, node: nodes.Node) -> None:
        """The lab's service exists (or failed): no longer counted as being placed."""
        self.swarm.placing[node.id] -= 1

    async def _least_loaded(self) -> nodes.Node:
        # Every service, counted by its label here: the engine's label filter is not relied on.
        services = await self.docker_service.swarm_services()
        load = nodes.lab_load(services)
        for node_id, n in self.swarm.placing.items():
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
            engine = self._engine(node)
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
