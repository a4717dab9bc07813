"""Owns the event log's record of JupyterHub's share codes (`/hub/api/share-codes/<owner>/
<server>`): the hub's own handler makes and deletes them; each code it made or deleted is one
event, like the shares' (sharing.py). A code is named by the hub's public id (`sc_<n>`), never by
the code itself, which would open the server to whoever reads the log."""

from __future__ import annotations

from datetime import datetime

from jupyterhub import orm
from sqlalchemy.orm import Session

from ..audit.log import AuditLog, EventKind

CodeKeys = dict[int, datetime | None]  # a code's id -> when it expires


def code_keys(db: Session, spawner: orm.Spawner | None) -> CodeKeys:
    """Every share code of the server as the database has it now (none for no server)."""
    if spawner is None:
        return {}
    query = db.query(orm.ShareCode.id, orm.ShareCode.expires_at).filter(
        orm.ShareCode.spawner_id == spawner.id)
    return dict(query.all())


async def record_code_changes(audit: AuditLog, actor: str, owner: str, server_name: str,
                              before: CodeKeys, after: CodeKeys, how: str) -> None:
    """One event per share code the hub's handler made (with its expiry) or deleted."""
    server = f"{owner}/{server_name}" if server_name else f"{owner}'s server"
    for code_id in sorted(after.keys() - before.keys()):
        expires = after[code_id]
        until = f", valid until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
        await audit.record(actor, EventKind.SHARE_CODE, owner,
                           f"share code sc_{code_id} for {server} made{until} ({how})")
    for code_id in sorted(before.keys() - after.keys()):
        await audit.record(actor, EventKind.SHARE_CODE_REVOKED, owner,
                           f"share code sc_{code_id} for {server} revoked ({how})")
