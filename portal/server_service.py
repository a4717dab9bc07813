"""Server and volume actions for one user, through the hub's own machinery and Docker.

Start and stop go through the hub (`spawn_single_user` / `stop_single_user`) so proxy routes,
events and the hub's admin page stay consistent; restart and volume reset talk to Docker through
`DockerService`. Nothing here renders HTML: callers get dataclasses or `ActionRefused`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from jupyterhub.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .docker_service import ContainerMissing, DockerUnavailable, VolumeInUse
from .errors import ActionRefused
from .logs import portal_logger
from .operations import Busy
from .runtime import Runtime
from .spawner import PortalSpawner, UserVolume

log = portal_logger()

RESTART_BOUND = 120.0  # seconds until a restarted lab must answer through the proxy again


@dataclass
class ServerView:
    user: str
    state: str  # stopped | starting | running | stopping | restarting | resetting | failed
    detail: str = ""
    lab_url: str = ""
    since: float | None = None  # epoch seconds the current state began, when known
    docker_problem: str = ""
    pending_access_change: bool = False
    node: str = ""  # Swarm mode: the node holding the user's volumes (shown to admins)

    @property
    def busy(self) -> bool:
        return self.state in ("starting", "stopping", "restarting", "resetting")

    @property
    def can_start(self) -> bool:  # a failed server is started again from here too
        return self.state in ("stopped", "failed") and not self.docker_problem

    @property
    def can_stop(self) -> bool:
        return self.state in ("running", "failed") and self._hub_active

    @property
    def can_restart(self) -> bool:
        return self.state == "running"

    @property
    def can_recreate(self) -> bool:
        return self.state == "running" and self.pending_access_change

    @property
    def can_reset(self) -> bool:
        return self.state in ("stopped", "failed") and not self._hub_active

    _hub_active: bool = False


@dataclass
class VolumeRow:
    volume: UserVolume
    exists: bool
    size_bytes: int | None


@dataclass
class ResetResult:
    reset: list[str] = field(default_factory=list)  # keys removed
    absent: list[str] = field(default_factory=list)  # keys that did not exist (nothing to do)
    failed: dict[str, str] = field(default_factory=dict)  # key -> reason


def spawner_of(user: Any) -> PortalSpawner:
    return user.spawner


def describe_failure(error: BaseException | None) -> str:
    """A spawn failure in plain words."""
    if error is None:
        return "The server failed to start."
    text = str(error) or type(error).__name__
    name = type(error).__name__
    if name == "ImageNotFound" or "No such image" in text:
        image = text.split("No such image:", 1)[-1].strip(' ")(') if "No such image" in text else ""
        return f"The lab image is not available on this host{f' ({image})' if image else ''}."
    if isinstance(error, TimeoutError) or "Timeout" in name or "timed out" in text.lower():
        return "The server did not come up in time. Try again, or ask an admin to check the logs."
    if "could not select device driver" in text or "nvidia" in text.lower():
        # Docker's own words (e.g. `could not select device driver "nvidia" with capabilities:
        # [[gpu]]` when the host has no NVIDIA runtime), without the request URL around them.
        why = getattr(error, "explanation", None) or text
        return f"The GPU could not be given to your server: {why}"
    return f"The server failed to start: {text}"


async def server_view(user: Any, runtime: Runtime) -> ServerView:
    """The true state of a user's default server, for the card."""
    spawner = spawner_of(user)
    name = user.name
    op = runtime.operations.current(name)
    orm = spawner.orm_spawner
    started = orm.started.timestamp() if orm is not None and orm.started else None
    view = ServerView(user=name, state="stopped", lab_url=user.url, node=spawner.placement())
    view._hub_active = bool(spawner.active)

    if op is not None:
        view.state, view.detail = {
            "starting": ("starting", "Starting your server"),
            "restarting": (
                "restarting", "Restarting your container; JupyterLab will answer again shortly."
            ),
        }.get(op.kind, ("resetting", "Resetting volumes; the server cannot start until then."))
        view.since = time.time() - (time.monotonic() - op.started)
        return view
    if spawner.pending == "spawn":
        view.state, view.since = "starting", started
        view.detail = getattr(spawner, "phase", "") or "Starting your server"
        return view
    if spawner.pending == "stop":
        view.state, view.detail = "stopping", "Stopping your server"
        return view
    if spawner.ready:
        view.state, view.since = "running", started
        last = runtime.operations.last(name)
        if last is not None and not last.ok:
            view.detail = last.message
        try:
            info = await spawner.lab_container(runtime.docker)
            # Group changes apply at the next start; say so while the old access is in force.
            view.pending_access_change = (info.docker_socket, info.privileged) != (
                spawner.docker_access()
            )
            if info.status != "running":
                view.state = "failed"
                view.detail = (
                    f"Your container stopped outside the hub ({info.status}, exit code "
                    f"{info.exit_code}). Start it again; your volumes are kept."
                )
        except ContainerMissing:
            view.state = "failed"
            view.detail = (
                "Your container was removed outside the hub. Start it again; your volumes are kept."
            )
        except DockerUnavailable as e:
            view.docker_problem = f"Docker cannot be reached: {e}"
        return view
    failed = getattr(spawner, "_failed", False)
    last = runtime.operations.last(name)
    if failed:
        view.state = "failed"
        view.detail = describe_failure(spawner._spawn_future.exception())
    elif last is not None and not last.ok:
        view.state, view.detail = "failed", last.message
    try:
        await (await spawner.lab_engine(runtime.docker)).ping()
    except DockerUnavailable as e:
        view.docker_problem = f"Docker cannot be reached: {e}"
    return view


def _background(coro: Awaitable[Any], what: str) -> asyncio.Task:
    async def run() -> None:
        try:
            await coro
        except Exception:  # the hub records spawn failures itself; we only log
            log.exception("%s failed", what)

    return asyncio.ensure_future(run())


_tasks: set[asyncio.Task] = set()


def _keep(task: asyncio.Task) -> None:
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _container_gone(spawner: PortalSpawner, runtime: Runtime) -> bool:
    """The hub thinks the server runs, but its container was stopped or removed outside it."""
    try:
        return (await spawner.lab_container(runtime.docker)).status != "running"
    except ContainerMissing:
        return True


async def start(
    user: Any,
    runtime: Runtime,
    spawn: Callable[[Any], Awaitable[Any]],
    stop_fn: Callable[[Any], Awaitable[Any]] | None = None,
) -> None:
    """Start through the hub; returns once the spawn is under way.

    If the hub still records a server whose container died or was removed outside it, the hub
    stops that record first (routes, state), so the start begins from a clean slate.
    """
    spawner = spawner_of(user)
    op = runtime.operations.current(user.name)
    if op is not None:
        raise ActionRefused(f"Cannot start while {op.kind} is in progress.")
    stale = False
    if spawner.active:
        if spawner.pending or stop_fn is None or not await _container_gone(spawner, runtime):
            raise ActionRefused("The server is already running or starting.")
        stale = True
    runtime.operations.forget(user.name)
    # Hold the user until the hub marks the spawn pending: a reset arriving in between must see
    # a start in progress, not a stopped server.
    try:
        runtime.operations.acquire(user.name, "starting")
    except Busy as e:  # claimed while we checked the container (a double click, a restart)
        raise ActionRefused(f"Cannot start: {e.kind} is already in progress.") from None

    async def run() -> None:
        spawning = None
        try:
            if stale:
                log.info("Clearing %s's server, whose container is gone, before starting",
                         user.name)
                await stop_fn(user)
                while spawner.active:  # noqa: ASYNC110 (hub state, no event to await)
                    await asyncio.sleep(0.1)
            spawning = asyncio.ensure_future(spawn(user))
            while not spawning.done() and not spawner.pending:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        finally:
            runtime.operations.release(user.name)
        if spawning is not None:
            try:
                await spawning
            except Exception as e:  # refusals before the spawner ran leave no _spawn_future
                runtime.operations.record(user.name, "start", False, describe_failure(e))
                raise

    _keep(_background(run(), f"start of {user.name}"))
    # Let the hub mark the spawn pending before we render the card.
    for _ in range(20):
        if spawner.active or getattr(spawner, "_failed", False):
            break
        await asyncio.sleep(0.01)


async def stop(user: Any, runtime: Runtime, stop_fn: Callable[[Any], Awaitable[Any]]) -> None:
    spawner = spawner_of(user)
    if runtime.operations.current(user.name) is not None:
        raise ActionRefused("Wait until the current operation finishes.")
    if not spawner.active:
        raise ActionRefused("The server is not running.")
    if spawner.pending == "stop":
        raise ActionRefused("The server is already stopping.")
    runtime.operations.forget(user.name)
    _keep(_background(stop_fn(user), f"stop of {user.name}"))
    for _ in range(20):
        if spawner.pending == "stop" or not spawner.active:
            break
        await asyncio.sleep(0.01)


def _claim_for_restart(user: Any, runtime: Runtime) -> PortalSpawner:
    """Both restarts need a running server and hold the user while they work."""
    spawner = spawner_of(user)
    if not spawner.ready or spawner.pending:
        raise ActionRefused("Only a running server can be restarted; start it instead.")
    try:
        runtime.operations.acquire(user.name, "restarting")
    except Busy as e:
        raise ActionRefused(f"Cannot restart: {e.kind} is already in progress.") from None
    return spawner


async def act(
    action: str,
    user: Any,
    runtime: Runtime,
    *,
    spawn_fn: Callable[[Any], Awaitable[Any]],
    stop_fn: Callable[[Any], Awaitable[Any]],
    public_url: str,
    wait: bool = False,
) -> None:
    """One server action by name (start, stop, restart, recreate), for pages and the API."""
    if action == "start":
        await start(user, runtime, spawn_fn, stop_fn)
    elif action == "stop":
        await stop(user, runtime, stop_fn)
    elif action == "recreate":
        await recreate(user, runtime, stop_fn, spawn_fn)
    elif action == "restart":
        await restart(user, runtime, public_url, wait=wait)
    else:
        raise ActionRefused(f"Unknown action: {action[:40]}", 400)


async def recreate(user: Any, runtime: Runtime, stop_fn: Callable[[Any], Awaitable[Any]],
                   spawn_fn: Callable[[Any], Awaitable[Any]]) -> None:
    """Stop and start through the hub: a new container, so changed Docker access applies.

    (A Docker restart would keep the old container and its old access.)
    """
    spawner = _claim_for_restart(user, runtime)

    async def run() -> None:
        try:
            await stop_fn(user)
            while spawner.pending:  # noqa: ASYNC110 (hub state, no event to await)
                await asyncio.sleep(0.2)
        finally:
            runtime.operations.release(user.name)
        try:
            await spawn_fn(user)
        except Exception as e:
            runtime.operations.record(user.name, "start", False, describe_failure(e))
            raise

    _keep(_background(run(), f"re-creation of {user.name}'s server"))
    await asyncio.sleep(0)


async def restart(user: Any, runtime: Runtime, public_url: str, wait: bool = False) -> None:
    """Docker restart of the user's running container; the lab keeps its container and volumes.

    Returns at once (the card shows "restarting") unless `wait`; the outcome is recorded.
    """
    spawner = _claim_for_restart(user, runtime)

    async def run() -> None:
        try:
            await spawner.restart_lab(runtime.docker)
            await wait_until_answering(public_url, user.url, RESTART_BOUND)
            runtime.operations.record(user.name, "restart", True, "Restarted.")
        except ContainerMissing:
            runtime.operations.record(
                user.name, "restart", False, "Your container no longer exists; start it again."
            )
        except DockerUnavailable as e:
            runtime.operations.record(user.name, "restart", False, f"Restart failed: {e}")
        except TimeoutError:
            runtime.operations.record(
                user.name, "restart", False,
                f"JupyterLab did not answer within {RESTART_BOUND:.0f} s after the restart.",
            )
        except Exception as e:  # e.g. Docker refusing (409): say it instead of losing it
            log.exception("Restart of %s failed", user.name)
            runtime.operations.record(user.name, "restart", False, f"Restart failed: {e}")
        finally:
            runtime.operations.release(user.name)

    task = asyncio.ensure_future(run())
    _keep(task)
    if wait:
        await task


def loopback_url(public_url: str) -> str:
    """Where the hub itself reaches the proxy's public side: scheme://host:port only."""
    parsed = urlparse(public_url or "http://:8000")
    host = parsed.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"{parsed.scheme or 'http'}://{host}:{parsed.port or 8000}"


async def wait_until_answering(public_url: str, path: str, bound: float) -> None:
    """Poll the lab through the proxy until it answers (any non-proxy-error status)."""
    url = url_path_join(public_url, path, "api")
    # A client of our own: the hub's shared one (10 slots) also carries its proxy calls.
    client = AsyncHTTPClient(force_instance=True)
    deadline = time.monotonic() + bound
    try:
        await _poll_until_answering(client, url, deadline)
    finally:
        client.close()


async def _poll_until_answering(client: AsyncHTTPClient, url: str, deadline: float) -> None:
    while True:
        try:
            await client.fetch(url, request_timeout=5, follow_redirects=False, validate_cert=False)
            return
        except HTTPClientError as e:
            if e.code not in (502, 503, 504, 599):
                return  # the lab itself answered (a redirect to sign in counts)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(url)
        await asyncio.sleep(0.25)


async def volume_rows(user: Any, runtime: Runtime) -> list[VolumeRow]:
    spawner = spawner_of(user)
    volumes = spawner.owned_volumes()
    # Where the volumes live: the hub's engine, or in Swarm mode the user's node.
    docker = await spawner.lab_engine(runtime.docker)
    infos = await docker.volumes(v.name for v in volumes)
    return [VolumeRow(v, i.exists, i.size_bytes) for v, i in zip(volumes, infos, strict=True)]


def choose_volumes(user: Any, keys: Iterable[str]) -> list[UserVolume]:
    """Map requested keys to the user's own volumes; anything else is refused, not ignored."""
    owned = {v.key: v for v in spawner_of(user).owned_volumes()}
    wanted = list(dict.fromkeys(k.strip() for k in keys))
    if not wanted or wanted == [""]:
        raise ActionRefused("Choose at least one volume to reset.", 400)
    unknown = [k for k in wanted if k not in owned]
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise ActionRefused(
            f"Not one of your volumes: {shown}. You can reset: {', '.join(owned)}.", 400
        )
    return [owned[k] for k in wanted]


async def reset_volumes(user: Any, runtime: Runtime, keys: Iterable[str]) -> ResetResult:
    """Remove the chosen volumes of a stopped server; they are re-created empty at next start."""
    chosen = choose_volumes(user, keys)
    spawner = spawner_of(user)
    try:
        with runtime.operations.claim(user.name, "resetting volumes"):
            # Checked after claiming: a start that began earlier is pending by now.
            if spawner.active:
                raise ActionRefused("Stop the server before resetting its volumes.")
            result = ResetResult()
            try:
                docker = await spawner.lab_engine(runtime.docker)
            except DockerUnavailable as e:
                result.failed = {volume.key: str(e) for volume in chosen}
                return result
            for volume in chosen:
                try:
                    users = await docker.containers_using(volume.name)
                    if users:
                        result.failed[volume.key] = f"in use by container {', '.join(users)}"
                        continue
                    if await docker.remove_volume(volume.name):
                        result.reset.append(volume.key)
                    else:
                        result.absent.append(volume.key)
                except VolumeInUse as e:
                    result.failed[volume.key] = f"in use: {e}"
                except DockerUnavailable as e:
                    result.failed[volume.key] = str(e)
            log.info(
                "Volume reset for %s: reset %s, absent %s, failed %s",
                user.name, result.reset, result.absent, result.failed,
            )
            return result
    except Busy as e:
        raise ActionRefused(f"Cannot reset volumes: {e.kind} is already in progress.") from None
