"""Owns the server actions (start, stop, restart, re-create) and their rules of conflict.

Start and stop go through the hub (`spawn_single_user` / `stop_single_user`) so proxy routes,
events and the hub's admin page stay consistent; restart talks to Docker. The work runs in the
background (the card shows its progress); refusals are `ActionRefused`, raised before anything
changes. `act` dispatches through `PERFORM`, one entry per `ServerAction`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..auth.account_states import AccountState
from ..docker.service import ContainerMissing
from ..lab.poll_guard import poll_acting
from ..operations.action_names import ServerAction
from ..operations.in_flight import Busy, Operations
from ..operations.states import OperationKind
from ..platform.errors import ActionRefused, DockerUnavailable
from ..platform.logs import portal_logger
from ..platform.tasks import in_background, wait_until
from ..platform.upstream import HubSpawner, HubUser, hub_stopping, spawn_failed
from ..runtime import Runtime
from .readiness import wait_until_answering
from .view import describe_failure

log = portal_logger()

RESTART_BOUND = 120.0  # seconds until a restarted lab must answer through the proxy again
STOP_BOUND = 120.0  # seconds a stop through the hub may take before a re-creation gives up
MARK_PENDING_BOUND = 0.2  # seconds we give the hub to mark a spawn/stop pending before replying

HubCall = Callable[[HubUser], Awaitable[None]]


@dataclass(frozen=True)
class HubActions:
    """The hub's own start and stop for a user (the handler's spawn/stop_single_user)."""

    spawn: HubCall
    stop: HubCall
    public_url: str  # where the hub reaches the proxy's public side (readiness checks)
    actor: str  # who asked (user, admin or service name), for the event log
    # The user options a start or re-creation asks for (`spawn` passes them to the hub), e.g.
    # {"environment": name}; None: the hub reuses the last ones.
    options: dict[str, Any] | None = None


# An action's work once accepted; it may return what still runs in the background, for a
# caller that waits for the end (only a restart offers that: the JSON API's "wait").
Perform = Callable[[HubUser, Runtime, HubActions], Awaitable[asyncio.Task[None] | None]]


async def act(action: ServerAction, user: HubUser, runtime: Runtime, hub: HubActions,
              wait: bool = False) -> None:
    """One server action, for pages, the JSON API and bulk actions alike; recorded once."""
    try:
        background = await PERFORM[action](user, runtime, hub)
        if wait and background is not None:
            await background  # records its own outcome; never raises a refusal
    except ActionRefused as refusal:
        await runtime.audit.record(hub.actor, action.event, user.name,
                                   f"refused: {refusal.message}", ok=False)
        raise
    await runtime.audit.record(hub.actor, action.event, user.name, "requested")


async def check_choice(user: HubUser, runtime: Runtime, hub: HubActions) -> None:
    """An unknown or forbidden environment is a 400 before anything starts or stops."""
    if hub.options is not None:
        await runtime.environments.choose(hub.options, (g.name for g in user.groups))


async def _container_gone(spawner: HubSpawner, runtime: Runtime) -> bool:
    """The hub thinks the server runs, but its container was stopped or removed outside it."""
    try:
        return (await spawner.location.container(runtime.docker)).status != "running"
    except ContainerMissing:
        return True


async def start(user: HubUser, runtime: Runtime, hub: HubActions) -> None:
    """Start through the hub; returns once the spawn is under way.

    If the hub still records a server whose container died or was removed outside it, the hub
    stops that record first (routes, state), so the start begins from a clean slate. If the hub
    is already stopping the server (its own poll found the container gone, or a Stop pressed a
    moment ago), the start waits for that stop, then starts: the card offered Start, so Start
    must work (a refusal here once said "already running" about a server being cleared).
    """
    spawner = user.spawner
    if runtime.accounts.state(user) == AccountState.DISABLED:
        raise ActionRefused(f"The account {user.name} is disabled: enable it before starting "
                            "its server.")
    await check_choice(user, runtime, hub)
    if refusal := runtime.quotas.start_refusal(user.name):  # the month's lab hours are used up
        raise ActionRefused(refusal)
    op = runtime.operations.current(user.name)
    if op is not None:
        raise ActionRefused(f"Cannot start while {op.kind} is in progress.")
    stale = False
    if spawner.active:
        stopping = hub_stopping(spawner)
        if not stopping and (spawner.pending or not await _container_gone(spawner, runtime)):
            raise ActionRefused("The server is already running or starting.")
        stale = True
    runtime.operations.forget(user.name)
    # Hold the user until the hub marks the spawn pending: a reset arriving in between must see
    # a start in progress, not a stopped server.
    try:
        runtime.operations.acquire(user.name, OperationKind.STARTING)
    except Busy as e:  # claimed while we checked the container (a double click, a restart)
        raise ActionRefused(f"Cannot start: {e.kind} is already in progress.") from None
    in_background(_start_then_follow(user, runtime, hub, stale), f"start of {user.name}")
    # Let the hub mark the spawn pending before we render the card.
    await wait_until(lambda: spawner.active or spawn_failed(spawner), MARK_PENDING_BOUND, 0.01)


async def _start_then_follow(user: HubUser, runtime: Runtime, hub: HubActions, stale: bool) -> None:
    spawner = user.spawner
    spawning = None
    try:
        if stale:
            # Unless the hub's own stop is under way (a poll found the container gone, or a
            # stop): then wait for it.
            if not hub_stopping(spawner) and not poll_acting(spawner):
                log.info("Clearing %s's server, whose container is gone, before starting",
                         user.name)
                await hub.stop(user)
            # A poll's stop that began meanwhile must end before the spawn, or it stops that.
            if not await wait_until(lambda: not spawner.active and not poll_acting(spawner),
                                    STOP_BOUND, 0.05):
                message = (f"The server did not finish stopping within {STOP_BOUND:.0f} s; "
                           "nothing was started. Try again in a moment.")
                runtime.operations.record(user.name, ServerAction.START, False, message)
                await runtime.audit.record(hub.actor, ServerAction.START.event, user.name,
                                           message, ok=False)
                return
        spawning = in_background(_spawn_recording_failure(user, runtime, hub),
                                 f"spawn of {user.name}")
        await wait_until(lambda: spawning.done() or spawner.pending, STOP_BOUND, 0.02)
    finally:
        runtime.operations.release(user.name)
    if spawning is not None:
        await spawning


async def _spawn_recording_failure(user: HubUser, runtime: Runtime, hub: HubActions) -> None:
    try:
        await hub.spawn(user)
    except Exception as e:  # refusals before the spawner ran leave no spawn future to read
        runtime.operations.record(user.name, ServerAction.START, False, describe_failure(e))
        await runtime.audit.record(hub.actor, ServerAction.START.event, user.name,
                                   describe_failure(e), ok=False)
        raise


async def stop(user: HubUser, runtime: Runtime, hub: HubActions) -> None:
    await stop_server(user, runtime.operations, hub)


async def stop_server(user: HubUser, operations: Operations, hub: HubActions) -> None:
    """Stop through the hub; what idle culling uses too (it holds no runtime)."""
    spawner = user.spawner
    if operations.current(user.name) is not None:
        raise ActionRefused("Wait until the current operation finishes.")
    if not spawner.active:
        raise ActionRefused("The server is not running.")
    if hub_stopping(spawner):
        raise ActionRefused("The server is already stopping.")
    operations.forget(user.name)
    in_background(hub.stop(user), f"stop of {user.name}")
    await wait_until(lambda: hub_stopping(spawner) or not spawner.active,
                     MARK_PENDING_BOUND, 0.01)


def _claim_for_restart(user: HubUser, runtime: Runtime) -> HubSpawner:
    """Both restarts need a running server and hold the user while they work."""
    spawner = user.spawner
    if not spawner.ready or spawner.pending:
        raise ActionRefused("Only a running server can be restarted; start it instead.")
    try:
        runtime.operations.acquire(user.name, OperationKind.RESTARTING)
    except Busy as e:
        raise ActionRefused(f"Cannot restart: {e.kind} is already in progress.") from None
    return spawner


async def recreate(user: HubUser, runtime: Runtime, hub: HubActions) -> None:
    """Stop and start through the hub: a new container, so changed Docker access applies.

    (A Docker restart would keep the old container and its old access.) With another
    environment in `hub.options`, this is the switch: its image, the same volumes.
    """
    await check_choice(user, runtime, hub)
    spawner = _claim_for_restart(user, runtime)

    async def run() -> None:
        try:
            await hub.stop(user)
            await wait_until(lambda: not spawner.pending, STOP_BOUND, 0.2)
        finally:
            runtime.operations.release(user.name)
        await _spawn_recording_failure(user, runtime, hub)

    in_background(run(), f"re-creation of {user.name}'s server")


async def restart(user: HubUser, runtime: Runtime, hub: HubActions) -> asyncio.Task[None]:
    """Docker restart of the user's running container; the lab keeps its container and volumes.

    Returns at once (the card shows "restarting") with the restart's task, which records the
    outcome; a caller that waits awaits it.
    """
    spawner = _claim_for_restart(user, runtime)

    async def run() -> None:
        try:
            ok, message = True, "Restarted."
            await spawner.location.restart(runtime.docker)
            await wait_until_answering(hub.public_url, user.url, RESTART_BOUND)
        except ContainerMissing:
            ok, message = False, "Your container no longer exists; start it again."
        except DockerUnavailable as e:
            ok, message = False, f"Restart failed: {e}"
        except TimeoutError:
            ok, message = False, (
                f"JupyterLab did not answer within {RESTART_BOUND:.0f} s after the restart."
            )
        except Exception as e:  # e.g. Docker refusing (409): say it instead of losing it
            log.exception("Restart of %s failed", user.name)
            ok, message = False, f"Restart failed: {e}"
        finally:
            runtime.operations.release(user.name)
        runtime.operations.record(user.name, ServerAction.RESTART, ok, message)
        if not ok:
            await runtime.audit.record(hub.actor, ServerAction.RESTART.event, user.name, message,
                                       ok=False)

    return in_background(run(), f"restart of {user.name}")


PERFORM: dict[ServerAction, Perform] = {
    ServerAction.START: start,
    ServerAction.STOP: stop,
    ServerAction.RESTART: restart,
    ServerAction.RECREATE: recreate,
}
