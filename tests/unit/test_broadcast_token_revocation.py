"""Revoking a deleted account's per-lab broadcast tokens: rows and cache, that user only.
(Attacked on a real hub in tests/integration/test_session_limits.py.)"""

from __future__ import annotations

from jupyterhub import orm

from portal.broadcast import Broadcaster
from portal.broadcast_targets import Target
from portal.store import PortalStore
from tests.unit.test_broadcast_tokens import hub_db


async def test_revoke_deletes_that_labs_tokens_and_forgets_them(tmp_path):
    db = hub_db(tmp_path)
    broadcaster = Broadcaster("unused", PortalStore(f"sqlite:///{tmp_path}/portal.sqlite"))
    targets = [Target(u, f"http://127.0.0.1:1/user/{u}/") for u in ("bob", "alice")]
    first = await broadcaster.credentials(db, targets)
    assert await broadcaster.tokens.revoke(db, "bob") == 1
    assert orm.APIToken.find(db, first("bob"), kind="service") is None
    assert orm.APIToken.find(db, first("alice"), kind="service") is not None
    again = await broadcaster.credentials(db, targets)
    assert again("bob") != first("bob")  # minted anew, never the revoked one from the cache
    assert again("alice") == first("alice")
    assert await broadcaster.tokens.revoke(db, "nobody") == 0
