"""Owns the Docker calls of Swarm mode: the swarm's nodes and services, a service's tasks, a
forced update, a node engine's client.

A mixin of DockerService (portal/docker/service.py), which provides `_api()` and `_run()`: the
same pool, bound and errors as every other call (no answer is DockerUnavailable).
"""

from __future__ import annotations

from typing import Any

import docker
from docker.errors import NotFound
from docker.utils import kwargs_from_env

from .calls import EngineCalls
from .types import ContainerMissing


def node_client(url: str) -> docker.DockerClient:
    """A client of another node's engine (TLS from DOCKER_CERT_PATH, as the manager's)."""
    kwargs = kwargs_from_env()
    kwargs["base_url"] = url
    if url.startswith("unix://"):
        kwargs.pop("tls", None)
    return docker.DockerClient(timeout=30, **kwargs)


class DockerSwarm(EngineCalls):
    async def swarm_node_id(self) -> str:
        """The ID of this engine's own node in the swarm."""
        return await self._run(lambda: self._api().info()["Swarm"]["NodeID"])

    async def swarm_nodes(self) -> list[dict[str, Any]]:
        """Every node as the manager inspects it (`docker node ls`, full records)."""
        return await self._run(lambda: self._api().nodes())

    async def swarm_services(self) -> list[dict[str, Any]]:
        return await self._run(lambda: self._api().services())

    async def service_tasks(self, service: str) -> list[dict[str, Any]] | None:
        """The service's tasks, None when there is no such service."""

        def tasks() -> list[dict[str, Any]] | None:
            try:
                return self._api().tasks(filters={"service": service})
            except NotFound:
                return None

        return await self._run(tasks)

    async def force_update(self, service: str) -> None:
        """Have Swarm replace the service's task (same spec); ContainerMissing without one."""

        def update() -> None:
            api = self._api()
            try:
                found = api.inspect_service(service)
                forced = int(found["Spec"]["TaskTemplate"].get("ForceUpdate", 0)) + 1
                api.update_service(found["ID"], found["Version"]["Index"],
                                   task_template={"ForceUpdate": forced},
                                   fetch_current_spec=True)
            except NotFound:
                raise ContainerMissing(service) from None

        await self._run(update)

    async def container_data(self, name: str) -> dict[str, Any] | None:
        """A container as the engine inspects it (State, HostConfig); None when it is gone."""

        def inspect() -> dict[str, Any] | None:
            try:
                return self._api().inspect_container(name)
            except NotFound:
                return None

        return await self._run(inspect, bound=10)
