"""Owns the actions on a running server that end in a running server: restart (Docker's, the
same container), re-create (a new container through the hub's stop and start: changed access,
limits or another environment) and update (a re-creation from the newer image its tag names).
Each holds the user while it works; refusals are raised before anything changes."""

from __future__ import annotations

import asyncio

from ..docker.service import ContainerMissing
from ..governance.image_updates import short_id
from ..operations.action_names import ServerAction
from ..operations.in_flight import Busy
from ..operations.states import OperationKind
from ..platform.errors import ActionRefused, DockerUnavailable
from ..platform.logs import portal_logger
from ..platform.tasks import in_background, wait_until
from ..platform.upstream import HubSpawner, HubUser
from ..runtime import Runtime
from .hub_actions import STOP_BOUND, HubActions, check_choice, spawn_recording_failure
from .readiness import wait_until_answering

log = portal_logger()

RESTART_BOUND = 120.0  # seconds until a restarted lab must answer through the proxy again


def claim_for_restart(user: HubUser, runtime: Runtime) -> HubSpawner:
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
    spawner = claim_for_restart(user, runtime)

    async def run() -> None:
        try:
            await hub.stop(user)
            await wait_until(lambda: not spawner.pending, STOP_BOUND, 0.2)
        finally:
            runtime.operations.release(user.name)
        await spawn_recording_failure(user, runtime, hub)

    in_background(run(), f"re-creation of {user.name}'s server")


async def update(user: HubUser, runtime: Runtime, hub: HubActions) -> str:
    """Re-create to update: the re-creation above (the same environment, the same volumes),
    only while the server's tag names a newer image than its container was created from. The
    engine is asked now, not the card's brief cache. Returns the images, for the event log."""
    spawner = user.spawner
    if not spawner.ready or spawner.pending:
        raise ActionRefused("Only a running server can be re-created to update: start it "
                            "instead (a start uses the image its tag names now).")
    if (op := runtime.operations.current(user.name)) is not None:
        raise ActionRefused(f"Cannot re-create to update: {op.kind} is already in progress.")
    gone = ActionRefused("Your container is not running: start it again (a start uses the "
                         "image its tag names now).")
    try:
        info = await spawner.location.container(runtime.docker)
        engine = await spawner.location.engine(runtime.docker)
    except ContainerMissing:
        raise gone from None
    if info.status != "running":
        raise gone
    newer = await runtime.images.newer(engine, info, fresh=True)
    if not newer:
        raise ActionRefused(f"Nothing to update: {info.image or 'its tag'} names the image your "
                            f"server runs ({short_id(info.image_id) or 'unknown'}).")
    await recreate(user, runtime, hub)
    return f"{info.image} {short_id(info.image_id)} -> {short_id(newer)}"


async def restart(user: HubUser, runtime: Runtime, hub: HubActions) -> asyncio.Task[None]:
    """Docker restart of the user's running container; the lab keeps its container and volumes.

    Returns at once (the card shows "restarting") with the restart's task, which records the
    outcome; a caller that waits awaits it.
    """
    spawner = claim_for_restart(user, runtime)

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
