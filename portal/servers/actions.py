"""Owns the server actions' dispatch (`act`, through `PERFORM`, one entry per `ServerAction`)
and start and stop; restart, re-create and update are in restarts.py.

Start and stop go through the hub (`spawn_single_user` / `stop_single_user`) so proxy routes,
events and the hub's admin page stay consistent; restart talks to Docker. The work runs in the
background (the card shows its progress); refusals are `ActionRefused`, raised before anything
changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ..auth.account_states import AccountState
from ..docker.service import ContainerMissing
from ..lab.poll_guard import poll_acting
from ..operations.action_names import ServerAction
from ..operations.in_flight import Busy, Operations
from ..operations.states import OperationKind
from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.tasks import in_background, wait_until
from ..platform.upstream import HubSpawner, HubUser, hub_stopping, spawn_failed
from ..runtime import Runtime
from .hub_actions import STOP_BOUND, HubActions, HubCall, check_choice, spawn_recording_failure
from .restarts import recreate, restart, update

__all__ = ["HubActions", "HubCall", "PERFORM", "act", "start", "stop", "stop_server"]

log = portal_logger()

MARK_PENDING_BOUND = 0.2  # seconds we give the hub to mark a spawn/stop pending before replying

# An action's work once accepted; it may return what still runs in the background, for a
# caller that waits for the end (only a restart offers that: the JSON API's "wait"), or words
# the event log adds to "requested" (an update's images).
Perform = Callable[[HubUser, Runtime, HubActions], Awaitable[asyncio.Task[None] | str | None]]


async def act(action: ServerAction, user: HubUser, runtime: Runtime, hub: HubActions,
              wait: bool = False) -> None:
    """One server action, for pages, the JSON API and bulk actions alike; recorded once."""
    try:
        accepted = await PERFORM[action](user, runtime, hub)
        if wait and isinstance(accepted, asyncio.Task):
            await accepted  # records its own outcome; never raises a refusal
    except ActionRefused as refusal:
        await runtime.audit.record(hub.actor, action.event, user.name,
                                   f"refused: {refusal.message}", ok=False)
        raise
    words = f": {accepted}" if isinstance(accepted, str) else ""
    await runtime.audit.record(hub.actor, action.event, user.name, f"requested{words}")


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
        spawning = in_background(spawn_recording_failure(user, runtime, hub),
                                 f"spawn of {user.name}")
        await wait_until(lambda: spawning.done() or spawner.pending, STOP_BOUND, 0.02)
    finally:
        runtime.operations.release(user.name)
    if spawning is not None:
        await spawning


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


PERFORM: dict[ServerAction, Perform] = {
    ServerAction.START: start,
    ServerAction.STOP: stop,
    ServerAction.RESTART: restart,
    ServerAction.RECREATE: recreate,
    ServerAction.UPDATE: update,
}
