"""Owns every call to the Docker engine: async, in a thread pool, each with a timeout.

A blocking Docker call on the Tornado loop would freeze the hub for everyone, so nothing here
touches the engine from the loop. Docker's errors become domain exceptions the views can word.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.utils import parse_repository_tag
from requests.exceptions import RequestException

from .images import DockerImages
from .socket_pool import share_socket_pool
from .stats import DockerStats
from .swarm import DockerSwarm
from .types import (
    ContainerInfo,
    ContainerMissing,
    DockerRefused,
    DockerUnavailable,
    RunResult,
    VolumeInUse,
    explain,
    is_socket_path,
    stream_error,
)
from .volumes import DockerVolumes

__all__ = ["ContainerMissing", "DockerRefused", "DockerUnavailable", "DockerService",
           "VolumeInUse", "is_socket_path"]
T = TypeVar("T")
# Every stopped server card pings Docker; a success is trusted this long (seconds).
PING_FRESH = 3.0
SPAWNER_BOUND = 60.0  # seconds: DockerSpawner's own client read for up to this long


class DockerService(DockerVolumes, DockerSwarm, DockerImages, DockerStats):
    """Async facade for the few Docker operations the portal needs."""

    def __init__(
        self,
        client_factory: Callable[[], docker.DockerClient | docker.APIClient] | None = None,
        workers: int = 16,  # the portal's calls and DockerSpawner's: 8 each in separate pools
        timeout: float = 30.0,
    ) -> None:
        self._client_factory = client_factory or (
            lambda: docker.from_env(timeout=int(timeout))
        )
        self._client: docker.DockerClient | docker.APIClient | None = None
        self._workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="portal-docker")
        # Volume listing and sizes only: however often the volume modal opens, starts,
        # restarts and resets never wait behind them (one size computation at a time).
        self._sizes_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="portal-sizes")
        self.timeout = timeout
        self._ping_ok_at = float("-inf")

    def _api(self) -> docker.APIClient:
        if self._client is None:
            self._client = self._client_factory()
            # A DockerClient wraps the low-level client; a bare APIClient (DockerSpawner's) is one.
            share_socket_pool(getattr(self._client, "api", self._client), self._workers + 2)
        return getattr(self._client, "api", self._client)

    async def _run(self, fn: Callable[..., T], *args: Any, bound: float | None = None,
                   pool: ThreadPoolExecutor | None = None, answers: bool = False) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args)
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(pool or self._pool, call), bound or self.timeout
            )
        except TimeoutError:
            self._ping_ok_at = float("-inf")
            raise DockerUnavailable("the Docker engine did not answer in time") from None
        except (NotFound, VolumeInUse, ContainerMissing):
            raise
        except APIError as e:
            # `answers`: the caller reads the engine's answers itself, a 5xx included.
            if answers or (e.status_code is not None and e.status_code < 500):
                raise
            self._ping_ok_at = float("-inf")
            raise DockerUnavailable(explain(e)) from None
        except (DockerException, RequestException, OSError) as e:
            self._ping_ok_at = float("-inf")
            raise DockerUnavailable(explain(e)) from None

    async def ping(self) -> None:
        """Raise DockerUnavailable unless the engine answers.

        A success is trusted for PING_FRESH seconds, so many open portal pages cost one round
        trip to Docker, not one each (without it, /hub/portal for a stopped server was ~45%
        slower than /hub/home: benchmarks/portal_speed.py). Failures are never remembered, and
        any Docker call that finds the engine unreachable makes the next ping ask again.
        """
        if time.monotonic() - self._ping_ok_at < PING_FRESH:
            return
        await self._run(lambda: self._api().ping(), bound=5)
        self._ping_ok_at = time.monotonic()

    async def api_call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                       bound: float | None = None) -> Any:
        """A docker-py APIClient method by name: DockerSpawner's own calls (its `docker()`).

        Its base class reads the engine's answers by status (404 gone, 409 being removed, 500 an
        unhealthy Swarm node), so docker-py's APIError is kept as it is; no answer at all is
        DockerUnavailable, as everywhere. The bound defaults to DockerSpawner's own client's
        read timeout (60 s), which these calls had before they shared this pool.
        """
        return await self._run(lambda: getattr(self._api(), method)(*args, **kwargs),
                               bound=bound or SPAWNER_BOUND, answers=True)

    async def container(self, name: str) -> ContainerInfo:
        def inspect() -> ContainerInfo:
            try:
                data = self._api().inspect_container(name)
            except NotFound:
                raise ContainerMissing(name) from None
            state = data.get("State") or {}
            host = data.get("HostConfig") or {}
            mounts = {m.get("Source") for m in data.get("Mounts") or []}
            return ContainerInfo(
                id=data["Id"],
                status=state.get("Status", "unknown"),
                exit_code=state.get("ExitCode"),
                error=state.get("Error") or "",
                privileged=bool(host.get("Privileged")),
                docker_socket=any(is_socket_path(m or "") for m in mounts),
                oom_killed=bool(state.get("OOMKilled")),
                memory=int(host.get("Memory") or 0),
                nano_cpus=int(host.get("NanoCpus") or 0),
                image_id=data.get("Image") or "",
                image=(data.get("Config") or {}).get("Image") or "",
            )

        return await self._run(inspect, bound=10)

    async def log_tail(self, name: str, lines: int = 40, max_chars: int = 8000) -> str:
        """The last lines of a container's output (stdout and stderr), at most `max_chars`."""

        def tail() -> str:
            try:
                raw = self._api().logs(name, stdout=True, stderr=True, tail=lines)
            except NotFound:
                raise ContainerMissing(name) from None
            return raw.decode(errors="replace")[-max_chars:]

        return await self._run(tail, bound=10)

    async def restart(self, name: str, stop_timeout: int = 10) -> str:
        """Docker restart (same container, same volumes); returns the container id."""

        def restart() -> str:
            api = self._api()
            try:
                api.restart(name, timeout=stop_timeout)
                return api.inspect_container(name)["Id"]
            except NotFound:
                raise ContainerMissing(name) from None

        # Docker waits up to stop_timeout for the process to exit, then kills and starts it.
        return await self._run(restart, bound=stop_timeout + self.timeout)

    async def remove_container(self, name: str, bound: float = 15) -> bool:
        """Force-remove a container (running or not); False if there was none."""

        def remove() -> bool:
            try:
                self._api().remove_container(name, force=True, v=True)
                return True
            except NotFound:
                return False

        return await self._run(remove, bound=bound)

    async def image_present(self, image: str) -> bool:
        def inspect() -> bool:
            try:
                self._api().inspect_image(image)
                return True
            except NotFound:
                return False

        return await self._run(inspect, bound=10)

    async def pull_image(self, image: str, bound: float) -> None:
        """Pull within `bound` seconds; DockerRefused when the registry or engine says no.

        docker-py's own pull() reads without a timeout, so a registry that never answers would
        hold a thread for ever; this reads the same endpoint with a deadline instead, and
        closing the stream makes the engine give the pull up.
        """
        repo, tag = parse_repository_tag(image)
        deadline = time.monotonic() + bound

        def pull() -> None:
            api = self._api()
            url = f"{api.base_url}/v{api.api_version}/images/create"
            params = {"fromImage": repo, "tag": tag or "latest"}
            with api.post(url, params=params, stream=True, timeout=bound) as response:
                if response.status_code >= 400:
                    raise DockerRefused(stream_error(response.text) or response.reason)
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise TimeoutError
                    error = stream_error(line.decode(errors="replace"), key="error")
                    if error:
                        raise DockerRefused(error)

        await self._run(pull, bound=bound + 1)

    async def run_to_end(
        self, name: str, image: str, command: list[str], runtime: str, bound: float,
        environment: dict[str, str] | None = None,
    ) -> RunResult:
        """Create and start a container, wait up to `bound` s for it to exit, return its output.

        The container is left in place: the caller removes it (in a `finally`), so it also goes
        when this times out. Docker's refusals (unknown runtime, no such image) are DockerRefused.
        """
        deadline = time.monotonic() + bound

        def run() -> RunResult:
            api = self._api()
            try:
                api.create_container(
                    image, command, name=name, environment=environment or {},
                    host_config=api.create_host_config(runtime=runtime),
                )
                api.start(name)
                # wait() has a read timeout of its own, so the thread is free at the deadline.
                left = max(deadline - time.monotonic(), 0.1)
                status = api.wait(name, timeout=left)
                logs = api.logs(name, stdout=True, stderr=True, tail=20)
            except APIError as e:
                raise DockerRefused(explain(e)) from None
            return RunResult(
                exit_code=int(status.get("StatusCode", -1)),
                output=logs.decode(errors="replace").strip(),
            )

        return await self._run(run, bound=bound + 2)
