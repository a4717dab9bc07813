"""Owns how the server actions reach the hub: its own start and stop for one user
(`HubActions`), the choice of environment checked before either, and a spawn whose failure is
recorded (start, re-create and update share it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..operations.action_names import ServerAction
from ..platform.upstream import HubUser
from ..runtime import Runtime
from .view import describe_failure

STOP_BOUND = 120.0  # seconds a stop through the hub may take before a re-creation gives up

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


async def check_choice(user: HubUser, runtime: Runtime, hub: HubActions) -> None:
    """An unknown or forbidden environment is a 400 before anything starts or stops."""
    if hub.options is not None:
        await runtime.environments.choose(hub.options, (g.name for g in user.groups))


async def spawn_recording_failure(user: HubUser, runtime: Runtime, hub: HubActions) -> None:
    try:
        await hub.spawn(user)
    except Exception as e:  # refusals before the spawner ran leave no spawn future to read
        runtime.operations.record(user.name, ServerAction.START, False, describe_failure(e))
        await runtime.audit.record(hub.actor, ServerAction.START.event, user.name,
                                   describe_failure(e), ok=False)
        raise
