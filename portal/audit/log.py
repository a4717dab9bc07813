"""Owns the one event log: every action by anyone, stored with who, when, target, what, result.

Services call `AuditLog.record` once per action (never views). Listeners (pushed updates, the
activity columns) subscribe in-process and hear each event as it is stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from ..platform.logs import portal_logger
from ..store.database import PortalStore
from ..store.tables import AuditEventRow

log = portal_logger("audit")
SYSTEM_ACTOR = "(hub)"
# Who a hub handler acts for, for hooks that run inside the request without it (the spawner's
# delete_forever during DELETE /hub/api/users/<name>): set by the portal's handler overrides.
acting_as: ContextVar[str] = ContextVar("dshub_acting_as", default=SYSTEM_ACTOR)


class EventKind(StrEnum):
    START = "start"
    STOP = "stop"
    RESTART = "restart"
    RECREATE = "re-create"
    VOLUME_RESET = "volume reset"
    VOLUME_ARCHIVE = "volume archive"
    GROUP_CHANGE = "group change"
    LIMIT_CHANGE = "limit change"
    BROADCAST = "broadcast"
    ACCOUNT_CREATED = "account created"
    SIGN_UP = "sign-up"  # an account someone made for themselves (the sign-up form)
    ACCOUNT_APPROVED = "account approved"
    ACCOUNT_REJECTED = "account rejected"
    ACCOUNT_DELETED = "account deleted"
    CULL = "cull"
    CULL_POLICY = "cull policy"
    SERVER_EXITED = "server exited"
    SUDO = "sudo"
    PASSWORD_CHANGE = "password change"
    PASSWORD_RESET = "password reset"  # an admin set a temporary password
    ACCOUNT_DISABLED = "account disabled"
    ACCOUNT_ENABLED = "account enabled"
    TWO_FACTOR = "two-factor"  # turned on or off, cleared by an admin, a recovery code used
    ACCOUNT_POLICY = "account policy"  # the admins' rules (two-factor for host power)
    QUOTA_CHANGE = "quota change"
    EMAIL_CHANGE = "email address"  # an account set or cleared its own address
    QUOTA_WARNING = "quota warning"  # a user past their storage soft quota, told in their lab
    ENVIRONMENT = "environment"  # an environment added, changed or removed (admins, config)
    SHARE = "share"  # a server shared with a user or a group (JupyterHub's shares)
    SHARE_REVOKED = "share revoked"
    SHARE_CODE = "share code"  # a code someone may exchange for a share (the hub's REST API)
    SHARE_CODE_REVOKED = "share code revoked"
    IMAGE_UPDATE = "image update"  # a server re-created from the newer image its tag names
    SERVER_ADDED = "server added"  # a named server (its name in the detail)
    SERVER_DELETED = "server deleted"  # a named server and its own volumes


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    kind: EventKind
    target: str
    detail: str
    ok: bool

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor,
                "kind": str(self.kind), "target": self.target, "detail": self.detail,
                "ok": self.ok}


def _event(row: AuditEventRow) -> AuditEvent:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite drops the zone
    return AuditEvent(row.id, at, row.actor, EventKind(row.kind), row.target, row.detail, row.ok)


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the audit page and API; empty means any."""

    user: str = ""  # the target
    actor: str = ""
    kind: str = ""
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


class AuditLog:
    def __init__(self, store: PortalStore) -> None:
        self.store = store
        self._listeners: list[Callable[[AuditEvent], None]] = []

    def subscribe(self, listener: Callable[[AuditEvent], None]) -> Callable[[], None]:
        """Hear every stored event (on the event loop); returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def record(self, actor: str, kind: EventKind, target: str, detail: str = "",
                     ok: bool = True) -> AuditEvent | None:
        """Store one event; a failure to store is logged, never raised into the action."""
        events = await self.record_many([(actor, kind, target, detail, ok)])
        return events[0] if events else None

    async def record_many(self, entries: list[tuple[str, EventKind, str, str, bool]],
                          ) -> list[AuditEvent]:
        """Store events (actor, kind, target, detail, ok) in one commit: an idle pass warning
        2,000 servers committed 2,000 times (docs/benchmarks.md, section 15). A failure to
        store is logged, never raised into the action."""
        if not entries:
            return []

        def add() -> list[AuditEvent]:
            now = datetime.now(UTC)
            with self.store.session() as db:
                rows = [AuditEventRow(at=now, actor=actor[:255], kind=str(EventKind(kind)),
                                      target=target[:255], detail=detail, ok=ok)
                        for actor, kind, target, detail, ok in entries]
                db.add_all(rows)
                db.commit()
                return [_event(row) for row in rows]

        try:
            events = await self.store.run(add)
        except Exception:
            actor, kind, target = entries[0][:3]
            log.exception("Could not record %s of %s by %s (%d events)", kind, target, actor,
                          len(entries))
            return []
        for event in events:
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("An audit listener failed")
        return events

    def record_soon(self, actor: str, kind: EventKind, target: str, detail: str = "",
                    ok: bool = True) -> None:
        """`record` from code that cannot await (hub hooks); runs on the hub's loop."""
        asyncio.ensure_future(self.record(actor, kind, target, detail, ok))

    async def events(self, query: AuditQuery) -> list[AuditEvent]:
        return await self.store.run(lambda: self._load(query))

    async def events_json(self, query: AuditQuery) -> str:
        """The API's answer, made on the store's thread: 5,000 events serialised on the event
        loop held it for tens of milliseconds (docs/benchmarks.md, section 15)."""

        def answer() -> str:
            return json.dumps({"events": [e.as_json() for e in self._load(query)],
                               "limit": query.limit, "offset": query.offset})

        return await self.store.run(answer)

    def _load(self, query: AuditQuery) -> list[AuditEvent]:
        """The events `query` asks for, newest first (on the store's thread)."""
        q = select(AuditEventRow)
        for column, value in ((AuditEventRow.target, query.user),
                              (AuditEventRow.actor, query.actor),
                              (AuditEventRow.kind, query.kind)):
            if value:
                q = q.where(column == value)
        if query.since is not None:
            q = q.where(AuditEventRow.at >= query.since)
        if query.until is not None:
            q = q.where(AuditEventRow.at < query.until)
        q = q.order_by(AuditEventRow.id.desc()).limit(query.limit).offset(query.offset)
        with self.store.session() as db:
            return [_event(r) for r in db.scalars(q)]

    async def keep_only(self, days: int, every: float = 3600.0) -> None:
        """Retention: delete events older than `days`, now and then every `every` seconds."""
        while True:
            gone = await self.forget_before(datetime.now(UTC) - timedelta(days=days))
            if gone:
                log.info("Audit retention (%d days): deleted %d older events", days, gone)
            await asyncio.sleep(every)

    async def forget_before(self, cutoff: datetime) -> int:
        """Retention: delete events older than `cutoff`; returns how many went."""

        def delete() -> int:
            with self.store.session() as db:
                rows = db.query(AuditEventRow).filter(AuditEventRow.at < cutoff)
                count = rows.delete(synchronize_session=False)
                db.commit()
                return count

        return await self.store.run(delete)
