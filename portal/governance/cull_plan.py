"""Owns idle culling's decisions, pure: given now, each running server's last activity (by
server key) and the policy, which servers to warn and which to stop. The passes that gather
the servers and act on the decisions are culling.py's."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .cull_policy import CullPolicy


@dataclass
class Plan:
    """One pass's decisions: (server key, planned stop) to warn, server keys to stop."""

    warn: list[tuple[str, float]] = field(default_factory=list)
    cull: list[str] = field(default_factory=list)


def epoch(value: datetime | None) -> float | None:
    """The hub stores naive UTC datetimes."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def plan(now: float, servers: Iterable[tuple[str, float]], policy: CullPolicy,
         keep_until: dict[str, float], warned: dict[str, float], exempt: set[str],
         busy: Callable[[str], bool]) -> Plan:
    """Pure decisions over (server key, last activity) of running servers."""
    result = Plan()
    if not policy.on:
        return result
    for name, last in servers:
        if name in exempt:
            continue
        stop_at = max(last + policy.idle_after, keep_until.get(name, 0.0))
        if now >= stop_at:
            if not busy(name):
                result.cull.append(name)
        elif now >= stop_at - policy.warning and warned.get(name) != stop_at:
            result.warn.append((name, stop_at))
    return result


def where(server: str) -> str:
    """For messages and the event log: which server, when a named one."""
    return f" (server {server!r})" if server else ""
