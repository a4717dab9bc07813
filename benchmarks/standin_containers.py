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
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import docker

from .common import PREFIX, container_name

IMAGE = "dshub-lab-standin:latest"  # built by scripts/build-images.sh with the test images


# DSHUB_BENCH_KEEP_LABS=1: the containers outlive the run and the next run takes them as they
# are (2,000 take minutes to start on two cores); remove them with a run without it.
KEEP = os.environ.get("DSHUB_BENCH_KEEP_LABS") == "1"


def _start(client: docker.DockerClient, user: str, spare: list[str]) -> None:
    name = container_name(user)
    with contextlib.suppress(IndexError):  # a kept one of another run's stand-in: renamed
        client.api.rename(spare.pop(), name)
        return
    _remove(client, name)  # a stopped one, left by a run that was killed
    client.api.start(client.api.create_container(
        IMAGE, entrypoint=["sleep"], command=["infinity"], name=name,
        host_config=client.api.create_host_config(network_mode="host", init=False),
    )["Id"])


@contextlib.contextmanager
def standin_containers(client: docker.DockerClient, users: Iterable[str],
                       workers: int = 6) -> Iterator[float]:
    """An idle container for each of `users`, started where none runs (the seconds it took);
    removed after unless KEEP."""
    users = list(users)
    started = time.monotonic()
    running = standins_running(client)
    missing = [user for user in users if container_name(user) not in running]
    # The stand-ins' ports, so their names, change from run to run.
    spare = sorted(running - {container_name(user) for user in users})
    try:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda user: _start(client, user, spare), missing))
        yield round(time.monotonic() - started, 1)
    finally:
        if not KEEP:  # this run's and any kept ones it did not need
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda name: _remove(client, name),
                              standins_running(client) | {container_name(u) for u in users}))


def standins_running(client: docker.DockerClient) -> frozenset[str]:
    """The names of the stand-ins' running containers (this run's or a kept run's)."""
    return frozenset(name.lstrip("/") for c in client.api.containers(filters={"name": PREFIX})
                     for name in c["Names"] if name.lstrip("/").startswith(container_name("stub")))


def _remove(client: docker.DockerClient, name: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        client.api.remove_container(name, force=True)
