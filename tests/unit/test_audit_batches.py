"""Audit events stored together (an idle pass's warnings): one commit, every listener hears
each event in order, and the API's JSON made off the event loop says what the events say."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import event

from portal.audit.log import AuditEvent, AuditLog, AuditQuery, EventKind
from portal.store.database import PortalStore


def test_many_events_in_one_commit_heard_in_order(tmp_path):
    async def run() -> None:
        store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
        audit = AuditLog(store)
        await audit.record("system", EventKind.CULL, "warm-up")  # the schema is made
        heard: list[AuditEvent] = []
        audit.subscribe(heard.append)
        commits = []
        event.listen(store._engine, "commit", lambda conn: commits.append(1))
        entries = [("system", EventKind.CULL, f"u{i}", f"warned {i}", i % 2 == 0)
                   for i in range(300)]
        stored = await audit.record_many(entries)
        assert len(commits) == 1
        assert [e.target for e in heard] == [e.target for e in stored] == [
            f"u{i}" for i in range(300)]
        assert [e.ok for e in stored[:3]] == [True, False, True]
        answer = json.loads(await audit.events_json(AuditQuery(kind="cull", limit=5)))
        assert [e["target"] for e in answer["events"]] == ["u299", "u298", "u297", "u296",
                                                          "u295"]
        assert answer["limit"] == 5 and answer["events"][0]["detail"] == "warned 299"
        assert await audit.record_many([]) == []

    asyncio.run(run())
