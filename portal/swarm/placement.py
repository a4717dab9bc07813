"""Owns where Swarm labs go: the nodes, a first start's choice of node, and each node's engine.

`NodePlacement` is a service the Swarm spawner holds, over the hub's one SwarmView
(portal/swarm/view.py, handed to every spawner by portal.setup(c)): the labs being placed and
the lock live there, so two first starts never both pick the emptiest node. The spawner keeps
its own node in its state (`swarm_node`) and passes it in.
"""

from __future__ import annotations

from collections.abc import Callable
from logging import Logger

from ..docker.service import DockerService, DockerUnavailable
from . import nodes
from .view import SwarmView


class SwarmRefused(RuntimeError):
    """A start this Swarm cannot honour; the message is shown on the card as it is."""


class NodePlacement:
    """Node lookups and the choice of a node at a first start, on the hub's SwarmView."""

    def __init__(self, view: SwarmView) -> None:
        self.view = view

    async def nodes(self, fresh: bool = False) -> list[nodes.Node]:
        return await self.view.nodes(fresh)

    async def node(self, node_id: str, title: str = "") -> nodes.Node:
        """The node `node_id` (its listing asked again once when not found)."""
        for fresh in (False, True):
            for node in await self.nodes(fresh):
                if node.id == node_id:
                    return node
        raise DockerUnavailable(f"node {title or node_id[:12]} is no longer part of the swarm")

    def engine(self, node: nodes.Node) -> DockerService:
        return self.view.engine(node)

    async def reachable(self, node_id: str, title: str = "") -> tuple[nodes.Node, DockerService]:
        """The node and its engine, which answered a ping just now."""
        node = await self.node(node_id, title)
        engine = self.engine(node)
        try:
            await engine.ping()
        except DockerUnavailable as e:
            raise nodes.unreachable(node, e) from None
        return node, engine

    async def place(self, pinned: str, title: str, volumes: list[str], user: str,
                    log: Logger, users_node: Callable[[], tuple[str, str]] | None = None
                    ) -> nodes.Node:
        """The node for this start: the one it is pinned to (which must be up), else the one
        `users_node()` names (the node of the user's other servers, asked under the lock: the
        user's second first start sees where the first went), else one already holding its
        volumes, else the least loaded. Counted as being placed until `placed(node)`."""
        async with self.view.place_lock:  # two first starts must not both pick one node
            if not pinned and users_node is not None:
                pinned, title = users_node()
            if pinned:
                node = await self.node(pinned, title)
                if not (node.ready and node.active):
                    why = "down" if not node.ready else "drained or paused by an admin"
                    raise SwarmRefused(
                        f"Your volumes are on node {node.title}, which is {why}. Your lab is not "
                        "started elsewhere (it would start empty); try again when it is back."
                    )
            else:
                node = (await self._node_with_volumes(volumes, user, log)
                        or await self._least_loaded())
            self.view.placing[node.id] = self.view.placing.get(node.id, 0) + 1
        return node

    def placed(self, node: nodes.Node) -> None:
        """The lab's service exists (or failed): no longer counted as being placed."""
        self.view.placing[node.id] -= 1

    async def _least_loaded(self) -> nodes.Node:
        # Every service, counted by its label here: the engine's label filter is not relied on.
        services = await self.view.manager.swarm_services()
        load = nodes.lab_load(services)
        for node_id, n in self.view.placing.items():
            load[node_id] = load.get(node_id, 0) + n
        node = nodes.choose_node(await self.nodes(fresh=True), load)
        if node is None:
            raise SwarmRefused("No swarm node can take a lab now (none is ready and active).")
        return node

    async def _node_with_volumes(self, names: list[str], user: str,
                                 log: Logger) -> nodes.Node | None:
        """The node already holding these volumes (a hub whose state was lost)."""
        holders = []
        for node in await self.nodes():
            if not node.engine_url or not node.ready:
                continue
            try:
                if set(names) & await self.engine(node).existing_volumes():
                    holders.append(node)
            except DockerUnavailable as e:
                log.warning("Looking for %s's volumes on %s: %s", user, node.title, e)
        if len(holders) > 1:
            raise SwarmRefused(
                "Your volumes exist on several nodes ("
                + ", ".join(n.title for n in holders)
                + "). An admin must keep one set before your lab can start."
            )
        return holders[0] if holders else None
