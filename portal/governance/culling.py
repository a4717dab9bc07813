"""Owns idle culling's passes: who is warned and stopped when, and "Keep running".

The policy they follow (its values, defaults and admins' changes) is owned by cull_policy.py,
the pure decisions by cull_plan.py.

Built into the hub rather than on jupyterhub-idle-culler: the warning goes into the user's
JupyterLab through the portal's notification sender, the card offers "Keep running", nothing is
stopped while a portal operation (start, restart, volume reset) holds the user, and no extra
service or token with admin rights is needed. Idleness is the hub's own `last_activity` of the
server (kernels, terminals and browser traffic, as the proxy and the lab report them).

Every running server is culled, default and named alike, each on its own: decisions, warnings,
"Keep running" and stops are keyed by the operations' server key (`user` for the default
server, `user/name` for a named one), so one server's activity never keeps another alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from jupyterhub import orm
from sqlalchemy import func, select

from ..audit.log import SYSTEM_ACTOR, AuditLog, EventKind
from ..broadcast.broadcaster import Broadcaster
from ..broadcast.targets import target_of
from ..operations.in_flight import Operations, key_parts, server_key
from ..platform import metrics
from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.tasks import in_background
from ..platform.upstream import HubUser, users_named
from .cull_plan import Plan, epoch, plan, where
from .cull_policy import CullPolicy, CullPolicyStore, human_duration

log = portal_logger("culling")
# Servers per query of a pass, the loop given back after each: with 5,000 users a chunk holds
# it for ~6-8 ms of CPU, half the wall-time holds of 500 on a loaded machine
# (benchmarks/culling_pass.py).
CHUNK = 250


# Stops a user's server (by name, "" the default one) through `hub_stop` under the server
# actions' rules (refusals raise ActionRefused): given by the runtime's factory, as
# servers/actions.py needs the whole runtime.
StopIdle = Callable[[HubUser, str, Callable[[HubUser], Awaitable[None]]], Awaitable[None]]



class Culler:
    def __init__(self, policies: CullPolicyStore, operations: Operations, audit: AuditLog,
                 broadcaster: Broadcaster, stop_idle: StopIdle) -> None:
        self.policies, self.operations, self.audit = policies, operations, audit
        self.broadcaster, self.stop_idle = broadcaster, stop_idle
        self.keep_until: dict[str, float] = {}  # by server key
        self.warned: dict[str, float] = {}  # by server key

    @property
    def policy(self) -> CullPolicy:
        return self.policies.current

    @staticmethod
    def servers(db: Any, quiet_since: float | None = None, exempt: Iterable[str] = (),
                after: int = 0, limit: int | None = None) -> list[tuple[int, str, float]]:
        """(spawner id, server key, last activity) of running servers of every name, in
        spawner id order from `after` on; with `quiet_since`, only those without activity since
        then (the others need no decision yet); members of an `exempt` group are left out by
        the database."""
        rows = (db.query(orm.Spawner.id, orm.User.name, orm.Spawner.name,
                         orm.Spawner.last_activity, orm.Spawner.started)
                .join(orm.User, orm.Spawner.user_id == orm.User.id)
                .filter(orm.Spawner.server_id.isnot(None), orm.Spawner.id > after))
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
        return [(sid, server_key(name, server), epoch(last or started) or time.time())
                for sid, name, server, last, started in rows]

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
            for key in part.cull:
                in_background(self._cull(app, key), f"idle stop of {key}")
            decided.warn += part.warn
            decided.cull += part.cull
            if len(rows) < chunk:
                return decided
            await asyncio.sleep(0)  # other requests run between chunks

    def _busy(self, key: str) -> bool:
        return self.operations.current(key) is not None

    async def run(self, app: Any) -> None:
        await self.policies.load()
        while True:
            try:
                await self.pass_once(app)
            except Exception:
                log.exception("Idle culling pass failed; trying again")
                app.db.rollback()
            await self._until_next_pass()

    async def _until_next_pass(self) -> None:
        """The policy's pass interval, cut short by an admin's change of the policy."""
        changed = self.policies.changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), self.policy.pass_interval)
        changed.clear()

    def stop_at(self, key: str, last: float | None) -> float | None:
        """When the running server (by server key) will be stopped for idleness, if ever."""
        policy = self.policy
        if not policy.on or last is None:
            return None
        return max(last + policy.idle_after, self.keep_until.get(key, 0.0))

    def card_stop_at(self, user: HubUser, server: str = "") -> float | None:
        """For the card: when this running server stops if it stays idle (None: never)."""
        policy = self.policy
        if not policy.on or {g.name for g in user.groups} & set(policy.exempt):
            return None
        spawner = user.spawners[server] if server else user.spawner
        orm_spawner = spawner.orm_spawner
        last = epoch(orm_spawner.last_activity or orm_spawner.started) if orm_spawner else None
        return self.stop_at(server_key(user.name, server), last)

    def keep_label(self) -> str:
        """'8 more hours' for the card's button."""
        amount, unit = human_duration(self.policy.keep_max).split(" ", 1)
        return f"{amount} more {unit}"

    async def keep_running(self, user: HubUser, actor: str, server: str = "") -> float:
        """Postpone the idle stop of one server to now + the ceiling (never further)."""
        policy = self.policy
        if not policy.on:
            raise ActionRefused("Idle servers are not stopped on this hub.", 409)
        if server and server not in user.orm_spawners:
            raise ActionRefused(f"{user.name} has no server named {server[:40]!r}.", 404)
        spawner = user.spawners[server] if server else user.spawner
        if not spawner.ready:
            raise ActionRefused("The server is not running.", 409)
        key = server_key(user.name, server)
        until = time.time() + policy.keep_max
        self.keep_until[key] = until
        self.warned.pop(key, None)
        when = datetime.fromtimestamp(until, UTC).strftime("%H:%M UTC")
        metrics.CULLS.labels("kept").inc()
        await self.audit.record(actor, EventKind.CULL, user.name,
                                f"kept running until {when}{where(server)}")
        return until

    def _warning(self, stop_at: float, server: str = "") -> dict[str, Any]:
        minutes = max(round((stop_at - time.time()) / 60), 1)
        when = datetime.fromtimestamp(stop_at, UTC).strftime("%H:%M UTC")
        which = f"server {server}" if server else "server"
        message = (f"Your {which} is idle and will stop at {when} (in about {minutes} min). "
                   f"Keep working, or choose \"Keep running for {self.keep_label()}\" in the "
                   "portal, to keep it.")
        return {"message": message, "type": "warning", "autoClose": False, "immediate": True}

    async def _warn_all(self, app: Any, warns: list[tuple[str, float]]) -> None:
        """Warn each (server key, planned stop): their tokens minted in one go, the
        notifications sent through the broadcaster's bounded, paced pool, then each logged and
        audited."""
        broadcaster = self.broadcaster
        labs = [key_parts(key) for key, _ in warns]
        users = users_named(app.users, [name for name, _ in labs])
        targets = [target_of(users[name], server) for name, server in labs]
        credential = await broadcaster.credentials(app.db, targets)
        deliveries = await broadcaster.notify_each(
            [(target, self._warning(stop_at, server)) for target, (_, server), (_, stop_at)
             in zip(targets, labs, warns, strict=True)], credential)
        entries = []
        for (name, server), (_, stop_at), delivery in zip(labs, warns, deliveries, strict=True):
            when = datetime.fromtimestamp(stop_at, UTC).strftime("%H:%M UTC")
            log.info("Idle warning to %s%s (stop at %s): %s", name, where(server), when,
                     delivery.reason)
            metrics.CULLS.labels("warned").inc()
            entries.append((SYSTEM_ACTOR, EventKind.CULL, name,
                            f"warned: stops at {when}{where(server)} ({delivery.reason})",
                            delivery.ok))
        await self.audit.record_many(entries)  # one commit for the chunk

    async def _cull(self, app: Any, key: str) -> None:
        name, server = key_parts(key)
        user = app.users[name]
        spawner = user.spawners.get(server) if server else user.spawner
        if spawner is None:  # deleted since the pass
            return

        async def hub_stop(u: HubUser) -> None:
            await app.proxy.delete_user(u, server)
            await u.stop(server)

        last = epoch(spawner.orm_spawner.last_activity)
        try:
            await self.stop_idle(user, server, hub_stop)
        except ActionRefused as refusal:  # stopping already, an operation began: next pass
            log.info("Idle stop of %s skipped: %s", key, refusal.message)
            return
        self.keep_until.pop(key, None)
        self.warned.pop(key, None)
        since = datetime.fromtimestamp(last, UTC).strftime("%H:%M UTC") if last else "?"
        log.info("Stopped %s's idle server%s (no activity since %s)", name, where(server), since)
        metrics.CULLS.labels("stopped").inc()
        await self.audit.record(SYSTEM_ACTOR, EventKind.CULL, name,
                                f"stopped: idle since {since}{where(server)}")
