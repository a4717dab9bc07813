"""Owns the idle-culling policy: its values, environment defaults, admins' changes (audited).

The passes that apply it (warnings, stops, "Keep running") are owned by culling.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from jupyterhub import orm

from ..audit.log import AuditLog, EventKind
from ..platform import settings_parsers as parsers
from ..platform.errors import ActionRefused
from ..store.database import PortalStore
from ..store.tables import CullPolicyRow


def human_duration(seconds: float) -> str:
    """7200 -> '2 hours', 90 -> '1.5 minutes'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:g} {unit}{'' if value == 1 else 's'}"
    return f"{seconds:g} seconds"


@dataclass(frozen=True)
class CullPolicy:
    idle_after: float  # seconds; 0: never stop idle servers
    warning: float  # seconds before the stop that the warning goes out
    keep_max: float  # the most "Keep running" postpones, from the press
    exempt: tuple[str, ...] = ()

    @property
    def on(self) -> bool:
        return self.idle_after > 0

    @property
    def pass_interval(self) -> float:
        """Often enough to warn and stop on time, never more than once a second."""
        if not self.on:
            return 30.0
        return max(1.0, min(60.0, self.warning / 5 or 60.0, self.idle_after / 5))

    def words(self) -> str:
        if not self.on:
            return "off"
        exempt = ", ".join(self.exempt) or "none"
        return (f"stop after {human_duration(self.idle_after)} idle, warn "
                f"{human_duration(self.warning)} before, keep running up to "
                f"{human_duration(self.keep_max)}, exempt groups: {exempt}")

    def as_json(self) -> dict[str, Any]:
        return {"idle_after_seconds": self.idle_after, "warning_seconds": self.warning,
                "keep_max_seconds": self.keep_max, "exempt_groups": list(self.exempt)}


def _duration(raw: Any, what: str) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise ActionRefused(f"{what} must be a duration such as 45m or 8h.", 400)
    try:
        value = float(raw) if isinstance(raw, (int, float)) else parsers.duration(raw)
    except ValueError:
        raise ActionRefused(f"{what} {str(raw)[:40]!r} is not a duration: write e.g. 45m, 8h "
                            "or 2d (0 for off).", 400) from None
    if value < 0:
        raise ActionRefused(f"{what} cannot be negative.", 400)
    return value


def changed(current: CullPolicy, db: Any, body: dict[str, Any]) -> CullPolicy:
    """The policy with the given fields changed (absent or empty: unchanged); 4xx on bad input."""
    values = {}
    for key, what in (("idle_after", "Idle time"), ("warning", "Warning lead"),
                      ("keep_max", "Keep-running ceiling")):
        value = _duration(body.get(key), what)
        if value is not None:
            values[key] = value
    exempt = body.get("exempt")
    if exempt is not None:
        names = exempt.split(",") if isinstance(exempt, str) else exempt
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ActionRefused("Exempt groups must be group names.", 400)
        names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        missing = [n for n in names if orm.Group.find(db, n) is None]
        if missing:
            raise ActionRefused(f"There is no group named {missing[0][:80]!r}.", 404)
        values["exempt"] = tuple(names)
    policy = replace(current, **values)
    if policy.on and policy.warning >= policy.idle_after:
        raise ActionRefused("The warning lead must be shorter than the idle time.", 400)
    if policy.keep_max <= 0:
        raise ActionRefused("The keep-running ceiling must be more than 0.", 400)
    return policy


class CullPolicyStore:
    def __init__(self, store: PortalStore, audit: AuditLog, default: CullPolicy) -> None:
        self.store, self.audit, self.current = store, audit, default
        # Set by a change: the culler's next pass follows at once, not after the old interval
        # (30 s while culling was off).
        self.changed = asyncio.Event()

    async def load(self) -> CullPolicy:
        def read() -> CullPolicyRow | None:
            with self.store.session() as db:
                return db.get(CullPolicyRow, 1)

        row = await self.store.run(read)
        if row is not None:
            self.current = CullPolicy(row.idle_after, row.warning, row.keep_max,
                                      tuple(n for n in row.exempt.split(",") if n))
        return self.current

    async def change(self, db: Any, actor: str, body: dict[str, Any]) -> CullPolicy:
        policy = changed(self.current, db, body)

        def save() -> None:
            with self.store.session() as session:
                row = session.get(CullPolicyRow, 1) or CullPolicyRow(id=1)
                row.idle_after, row.warning, row.keep_max = (
                    policy.idle_after, policy.warning, policy.keep_max)
                row.exempt = ",".join(policy.exempt)
                session.add(row)
                session.commit()

        await self.store.run(save)
        before, self.current = self.current, policy
        self.changed.set()
        await self.audit.record(actor, EventKind.CULL_POLICY, "idle culling",
                                f"{before.words()} -> {policy.words()}")
        return policy
