"""Owns why a lab container ended without the hub asking (out of memory, a crash), in words.

The spawner reports a container it finds ended (its `poll`); this records the reason once per
container run for the card, the hub log and the event log. Start clears it.
"""

from __future__ import annotations

from typing import Any

from ..audit.log import SYSTEM_ACTOR, AuditLog, EventKind
from ..operations.in_flight import EXITED, Operations
from ..platform.logs import portal_logger
from .limits import human_size

log = portal_logger()


def exit_reason(oom_killed: bool, exit_code: int | None, memory: int) -> str:
    """'stopped: it ran out of memory (limit 2 GiB)' and the like."""
    if oom_killed:
        limit = f" (limit {human_size(memory)})" if memory else ""
        return f"stopped: it ran out of memory{limit}"
    return f"stopped by itself (exit code {exit_code})"


def card_sentence(reason: str) -> str:
    return f"Your server {reason}. Start it again; your volumes are kept."


class ExitReports:
    def __init__(self, operations: Operations, audit: AuditLog) -> None:
        self.operations, self.audit = operations, audit
        self._seen: set[tuple[str, str]] = set()

    def report(self, user: str, container: dict[str, Any]) -> None:
        """Called from the spawner (no await): record once per container run."""
        state = container.get("State") or {}
        key = (container.get("Id", ""), state.get("FinishedAt", ""))
        if key in self._seen or state.get("Running"):
            return
        self._seen.add(key)
        memory = int((container.get("HostConfig") or {}).get("Memory") or 0)
        oom, code = bool(state.get("OOMKilled")), state.get("ExitCode")
        reason = exit_reason(oom, code, memory)
        detail = f"{reason}; exit code {code}" if oom else reason  # the reason names it else
        log.warning("Lab of %s %s", user, detail)
        self.operations.record(user, EXITED, False, card_sentence(reason))
        self.audit.record_soon(SYSTEM_ACTOR, EventKind.SERVER_EXITED, user, detail, ok=False)
