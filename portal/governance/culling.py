"""Owns idle culling's passes: who is warned and stopped when, and "Keep running".

The policy they follow (its values, defaults and admins' changes) is owned by cull_policy.py.

Built into the hub rather than on jupyterhub-idle-culler: the warning goes into the user's
JupyterLab through the portal's notification sender, the card offers "Keep running", nothing is
stopped while a portal operation (start, restart, volume reset) holds the user, and no extra
service or token with admin rights is needed. Idleness is the hub's own `last_activity` of the
server (kernels, terminals and browser traffic, as the proxy and the lab report them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jupyterhub import orm
from sqlalchemy import func, select

from ..audit.log import SYSTEM_ACTOR, AuditLog, EventKind
from ..broadcast.broadcaster import Broadcaster
from ..broadcast.targets import target_of
from ..operations.in_flight import Operations
from ..platform import metrics
from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.tasks import in_background
from ..platform.upstream import HubUser, users_named
from .cull_policy import CullPolicy, CullPolicyStore, human_duration

log = portal_logger("culling")
# Servers per query of a pass, the loop given back after each: with 5,000 users a chunk holds
# it for ~6-8 ms of CPU, half the wall-time holds of 500 on a loaded machine
# (benchmarks/culling_pass.py).
CHUNK = 250


@dataclass
class Plan:
    """One pass's decisions: (user, planned stop) to warn, users to stop."""

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
    """Pure decisions over (user, last activity) of running servers."""
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


# Stops a user's server through `hub_stop` under the server actions' rules (refusals raise
# ActionRefused): given by the runtime's factory, as servers/actions.py needs the whole runtime.
StopIdle = Callable[[HubUser, Callable[[HubUser], Awaitable[None]]], Awaitable[None]]


class Culler:
    def __init__(self, policies: CullPolicyStore, operations: Operations, audit: AuditLog,
                 broadcaster: Broadcaster, stop_idle: StopIdle) -> None:
        self.policies, self.operations, self.audit = policies, operations, audit
        self.broadcaster, self.stop_idle = broadcaster, stop_idle
        self.keep_until: dict[str, float] = {}
        self.warned: dict[str, float] = {}

    @property
    def policy(self) -> CullPolicy:
        return self.policies.current

    @staticmethod
    def servers(db: Any, quiet_since: float | None = None, exempt: Iterable[str] = (),
                after: int = 0, limit: int | None = None) -> list[tuple[int, str, float]]:
        """(spawner id, user, last activity) of running default servers, in spawner id order
        from `after` on; with `quiet_since`, only those without activity since then (the others
        need no decision yet); members of an `exempt` group are left out by the database."""
        rows = (db.query(orm.Spawner.id, orm.User.name, orm.Spawner.last_activity,
                         orm.Spawner.started)
                .join(orm.User, orm.Spawner.user_id == orm.User.id)
                .filter(orm.Spawner.server_id.isnot(None), orm.Spawner.name == "",
                        orm.Spawner.id > after))
        if quiet_since is not None:
            cutoff = datetime.fromtimestamp(quiet_since, UTC).replace(tzinfo=None)
            rows = rows.filter(func.coalesce(orm.Spawner.last_activity, orm.Spawner.started)
                               <= cutoff)
        exempt = list(exempt)
        if exempt:
            members = (select(orm.user_group_map.c.user_id)
                       .join(orm.Group, orm.Group.id == orm.user_group_map.c.group_id)
                       .where(orm.Group.name.in_(exempt)))
            rows = rows.filter(orm.User.id.not_in(members))
        rows = rows.order_by(orm.Spawner.id).limit(limit)
        return [(sid, name, epoch(last or started) or time.time())
                for sid, name, last, started in rows]

    async def pass_once(self, app: Any, now: float | None = None, chunk: int = CHUNK) -> Plan:
        """Decide on the loop, `chunk` servers per query, giving the loop back between chunks
        (the hub's database session belongs to the loop); the work runs in the background."""
        now = time.time() if now is None else now
        policy = self.policy
        decided = Plan()
        if not policy.on:
            return decided
        # "Keep running" only ever postpones, so servers active within the warning window
        # are left out by the database.
        quiet_since = now - (policy.idle_after - policy.warning)
        after = 0
        while True:
            rows = self.servers(app.db, quiet_since, policy.exempt, after, chunk)
            if not rows:
                return decided
            after = rows[-1][0]
            part = plan(now, ((name, last) for _, name, last in rows), policy, self.keep_until,
                        self.warned, set(), self._busy)
            for name, stop_at in part.warn:
                self.warned[name] = stop_at
            if part.warn:
                # One send for the chunk's warnings: a task each (each minting its token
                # alone, behind the others) took 35 s for 500 and stalled the hub for seconds
                # (benchmarks/hub_scale.py).
                in_background(self._warn_all(app, part.warn),
                              f"idle warnings to {len(part.warn)} servers")
            for name in part.cull:
                in_background(self._cull(app, name), f"idle stop of {name}")
            decided.warn += part.warn
            decided.cull += part.cull
            if len(rows) < chunk:
                return decided
            await asyncio.sleep(0)  # other requests run between chunks

    def _busy(self, name: str) -> bool:
        return self.operations.current(name) is not None

    async def run(self, app: Any) -> None:
        await self.policies.load()
        while True:
            try:
                await self.pass_once(app)
            except Exception:
                log.exception("Idle culling pass failed; trying again")
                app.db.rollback()
            await asyncio.sleep(self.policy.pass_interval)

    def stop_at(self, name: str, last: float | None) -> float | None:
        """When the user's running server will be stopped for idleness, if ever."""
        policy = self.policy
        if not policy.on or last is None:
            return None
        return max(last + policy.idle_after, self.keep_until.get(name, 0.0))

    def card_stop_at(self, user: HubUser) -> float | None:
        """For the card: when this running server stops if it stays idle (None: never)."""
        policy = self.policy
        if not policy.on or {g.name for g in user.groups} & set(policy.exempt):
            return None
        orm_spawner = user.spawner.orm_spawner
        last = epoch(orm_spawner.last_activity or orm_spawner.started) if orm_spawner else None
        return self.stop_at(user.name, last)

    def keep_label(self) -> str:
        """'8 more hours' for the card's button."""
        amount, unit = human_duration(self.policy.keep_max).split(" ", 1)
        return f"{amount} more {unit}"

    async def keep_running(self, user: HubUser, actor: str) -> float:
        """Postpone the idle stop to now + the ceiling (never further)."""
        policy = self.policy
        if not policy.on:
            raise ActionRefused("Idle servers are not stopped on this hub.", 409)
        if not user.spawner.ready:
            raise ActionRefused("The server is not running.", 409)
        until = time.time() + policy.keep_max
        self.keep_until[user.name] = until
        self.warned.pop(user.name, None)
        when = datetime.fromtimestamp(until, UTC).strftime("%H:%M UTC")
        metrics.CULLS.labels("kept").inc()
        await self.audit.record(actor, EventKind.CULL, user.name,
                                        f"kept running until {when}")
        return until

    def _warning(self, stop_at: float) -> dict[str, Any]:
        minutes = max(round((stop_at - time.time()) / 60), 1)
        when = datetime.fromtimestamp(stop_at, UTC).strftime("%H:%M UTC")
        message = (f"Your server is idle and will stop at {when} (in about {minutes} min). "
                   f"Keep working, or choose \"Keep running for {self.keep_label()}\" in the "
                   "portal, to keep it.")
        return {"message": message, "type": "warning", "autoClose": False, "immediate": True}

    async def _warn_all(self, app: Any, warns: list[tuple[str, float]]) -> None:
        """Warn each (user, planned stop): their tokens minted in one go, the notifications
        sent through the broadcaster's bounded, paced pool, then each logged and audited."""
        broadcaster = self.broadcaster
        users = users_named(app.users, [name for name, _ in warns])
        targets = [target_of(users[name]) for name, _ in warns]
        credential = await broadcaster.credentials(app.db, targets)
        deliveries = await broadcaster.notify_each(
            [(target, self._warning(stop_at)) for target, (_, stop_at)
             in zip(targets, warns, strict=True)], credential)
        for (name, stop_at), delivery in zip(warns, deliveries, strict=True):
            when = datetime.fromtimestamp(stop_at, UTC).strftime("%H:%M UTC")
            log.info("Idle warning to %s (stop at %s): %s", name, when, delivery.reason)
            metrics.CULLS.labels("warned").inc()
            await self.audit.record(SYSTEM_ACTOR, EventKind.CULL, name,
                                    f"warned: stops at {when} ({delivery.reason})",
                                    ok=delivery.ok)

    async def _cull(self, app: Any, name: str) -> None:
        user = app.users[name]

        async def hub_stop(u: HubUser) -> None:
            await app.proxy.delete_user(u)
            await u.stop()

        last = epoch(user.spawner.orm_spawner.last_activity)
        try:
            await self.stop_idle(user, hub_stop)
        except ActionRefused as refusal:  # stopping already, an operation began: next pass
            log.info("Idle stop of %s skipped: %s", name, refusal.message)
            return
        self.keep_until.pop(name, None)
        self.warned.pop(name, None)
        since = datetime.fromtimestamp(last, UTC).strftime("%H:%M UTC") if last else "?"
        log.info("Stopped %s's idle server (no activity since %s)", name, since)
        metrics.CULLS.labels("stopped").inc()
        await self.audit.record(SYSTEM_ACTOR, EventKind.CULL, name,
                                        f"stopped: idle since {since}")
