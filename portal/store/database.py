"""Owns the portal's own database (never the hub's tables): broadcasts, group audit, events.

SQLite in the data directory by default; any SQLAlchemy URL (e.g. PostgreSQL) via
PORTAL_DATABASE_URL. The event loop never waits on disk or on the network: writes (and the
short reads that go with them) run in a one-thread pool, in order, since SQLite has a single
writer; long reports (Insights) run on reading threads of their own (`read`), so an audit
write never queues behind a year's report. SQLite runs in WAL mode, where readers and the one
writer do not block each other.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session

from .migrations import upgrade_to_head
from .tables import BroadcastRow, MembershipChangeRow


@dataclass(frozen=True)
class Broadcast:
    id: int
    sender: str
    created: datetime
    message: str
    type: str
    auto_close: int | None
    recipients: dict[str, Any]
    results: list[dict[str, Any]]

    @property
    def delivered(self) -> int:
        return sum(1 for r in self.results if r.get("ok"))

    @property
    def failed(self) -> int:
        return len(self.results) - self.delivered


@dataclass(frozen=True)
class MembershipChange:
    actor: str
    created: datetime
    group: str
    user: str
    action: str


READERS = 2  # reports at once; a third waits for one of them
Result = TypeVar("Result")


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite's WAL mode (kept in the file): readers see the last commit while the writer
    writes (the default journal locks readers out during each commit)."""
    connection.execute("PRAGMA journal_mode=WAL")


class PortalStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-store")
        self._readers = ThreadPoolExecutor(max_workers=READERS,
                                           thread_name_prefix="portal-store-read")
        self._engine_made = threading.Lock()  # the first use may come from either pool
        # What revisions need besides the schema: `two_factor_box` (auth/secret_box.py).
        self.migration_attributes: dict[str, Any] = {}

    def session(self) -> Session:
        """A session on the portal's own database (its schema brought to head on first use)."""
        return self._db()

    async def run(self, fn, *args):  # noqa: ANN001, ANN201 (any blocking function and result)
        """Run `fn(*args)` on the store's one thread: never on the event loop."""
        return await self._run(fn, *args)

    async def read(self, fn: Callable[..., Result], *args: Any) -> Result:
        """Run `fn(db, *args)` on a reading thread, `db` a session that sees one snapshot of
        the store (every query of a report agrees), never writes, and holds up no write."""
        def in_snapshot() -> Result:
            with self._snapshot() as db:
                return fn(db, *args)

        return await asyncio.get_running_loop().run_in_executor(self._readers, in_snapshot)

    @contextmanager
    def _snapshot(self) -> Iterator[Session]:
        with self._db() as db:
            if self.url.startswith("sqlite"):
                # pysqlite begins no transaction before a SELECT, so each query would read
                # the newest commit: begin one, its snapshot taken at its first read.
                db.connection().exec_driver_sql("BEGIN")
            else:
                db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            try:
                yield db
            finally:
                db.rollback()  # it wrote nothing

    def _db(self) -> Session:
        with self._engine_made:
            if self._engine is None:
                self._engine = self._new_engine()
        return Session(self._engine, expire_on_commit=False)

    def _new_engine(self) -> Engine:
        # pre-ping: a PostgreSQL restart must not leave the pool with dead connections.
        engine = create_engine(self.url, pool_pre_ping=not self.url.startswith("sqlite"))
        if self.url.startswith("sqlite"):
            event.listen(engine, "connect", _write_ahead_log)
        try:
            # On one of the store's threads, never the event loop.
            upgrade_to_head(engine, self.migration_attributes)
        except Exception:
            engine.dispose()  # the next use tries again
            raise
        return engine

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def put_row(self, model: type, key: str, values: dict[str, Any] | None) -> None:
        """Make the row of `model` whose primary key is `key` hold `values`; None deletes it
        (a group's limits, a group's quotas)."""

        def put() -> None:
            with self._db() as db:
                row = db.get(model, key)
                if values is None:
                    if row is not None:
                        db.delete(row)
                elif row is None:
                    db.add(model(**{model.__mapper__.primary_key[0].name: key}, **values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
                db.commit()

        await self._run(put)

    # broadcasts
    async def add_broadcast(self, sender: str, message: str, type_: str, auto_close: int | None,
                            recipients: dict[str, Any], results: list[dict[str, Any]]) -> int:
        def add() -> int:
            with self._db() as db:
                row = BroadcastRow(
                    sender=sender, created=datetime.now(UTC), message=message, type=type_,
                    auto_close=auto_close, recipients=json.dumps(recipients),
                    results=json.dumps(results),
                )
                db.add(row)
                db.commit()
                return row.id

        return await self._run(add)

    async def broadcasts(self, limit: int = 50) -> list[Broadcast]:
        def load() -> list[Broadcast]:
            with self._db() as db:
                query = select(BroadcastRow).order_by(BroadcastRow.id.desc()).limit(limit)
                rows = db.scalars(query)
                return [
                    Broadcast(r.id, r.sender, _aware(r.created), r.message, r.type, r.auto_close,
                              json.loads(r.recipients), json.loads(r.results))
                    for r in rows
                ]

        return await self._run(load)

    # Docker-access group audit
    async def add_membership_change(self, actor: str, group: str, user: str, action: str) -> None:
        def add() -> None:
            with self._db() as db:
                db.add(MembershipChangeRow(actor=actor, created=datetime.now(UTC), group=group,
                                           user=user, action=action))
                db.commit()

        await self._run(add)

    async def membership_changes(self, limit: int = 50) -> list[MembershipChange]:
        def load() -> list[MembershipChange]:
            with self._db() as db:
                rows = db.scalars(select(MembershipChangeRow)
                                  .order_by(MembershipChangeRow.id.desc()).limit(limit))
                return [MembershipChange(r.actor, _aware(r.created), r.group, r.user, r.action)
                        for r in rows]

        return await self._run(load)
