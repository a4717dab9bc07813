"""Owns the names of per-user operations and of the states a server card can show."""

from __future__ import annotations

from enum import StrEnum


class OperationKind(StrEnum):
    """What the portal is doing to a user's server right now (one at a time per user)."""

    STARTING = "starting"
    RESTARTING = "restarting"
    RESETTING_VOLUMES = "resetting volumes"


class ServerChange(StrEnum):
    """What the spawner reports to the portal as the hub asks it (operations/live_updates.py)."""

    START_REQUESTED = "start requested"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ENDED = "ended by itself"  # a poll found the lab gone


class CardState(StrEnum):
    """What a server card shows; `busy` states make the card refresh itself quickly."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    RESTARTING = "restarting"
    RESETTING = "resetting"
    FAILED = "failed"

    @property
    def busy(self) -> bool:
        return self in BUSY_STATES


BUSY_STATES = frozenset(
    {CardState.STARTING, CardState.STOPPING, CardState.RESTARTING, CardState.RESETTING}
)

# The card state an operation in flight shows, with its sentence. Every kind must have one:
# a kind missing here is a programming error (KeyError), never a silent default.
OPERATION_CARDS: dict[OperationKind, tuple[CardState, str]] = {
    OperationKind.STARTING: (CardState.STARTING, "Starting your server"),
    OperationKind.RESTARTING: (
        CardState.RESTARTING, "Restarting your container; JupyterLab will answer again shortly."
    ),
    OperationKind.RESETTING_VOLUMES: (
        CardState.RESETTING, "Resetting volumes; the server cannot start until then."
    ),
}
