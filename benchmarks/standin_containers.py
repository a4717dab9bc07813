"""Idle containers for the loopback stand-ins (benchmarks/stubs.py), so that the hub's usage
sampler measures what it costs to sample running labs, not Docker's 404 for a name it lacks.

Each stand-in user's lab container exists under the name the spawner gives it (`container_name`)
and runs `sleep` from the stand-in lab image on the host network (no address of its own, no
port): a few MiB each, so 2,000 fit on this kind of machine (24 GiB). The stand-ins' HTTP still
comes from the loopback servers; these only make `docker stats` find a container, its CPU and
memory counters real.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import docker

from .common import container_name

IMAGE = "dshub-lab-standin:latest"  # built by scripts/build-images.sh with the test images


def _start(client: docker.DockerClient, user: str) -> None:
    client.api.start(client.api.create_container(
        IMAGE, entrypoint=["sleep"], command=["infinity"], name=container_name(user),
        host_config=client.api.create_host_config(network_mode="host", init=False),
    )["Id"])


@contextlib.contextmanager
def standin_containers(client: docker.DockerClient, users: Iterable[str],
                       workers: int = 6) -> Iterator[float]:
    """Start an idle container for each of `users` (the seconds it took), remove them after."""
    users = list(users)
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda user: _start(client, user), users))
        yield round(time.monotonic() - started, 1)
    finally:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda user: _remove(client, user), users))


def _remove(client: docker.DockerClient, user: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        client.api.remove_container(container_name(user), force=True)
