"""Revoking a deleted account's per-lab broadcast tokens: rows and cache, that user only.
(Attacked on a real hub in tests/integration/test_session_limits.py.)"""

from __future__ import annotations

from jupyterhub import orm

from portal.broadcast.broadcaster import Broadcaster
from portal.broadcast.targets import Target
from portal.store.database import PortalStore
from tests.unit.test_broadcast_tokens import hub_db


async def test_revoke_deletes_that_labs_tokens_and_forgets_them(tmp_path):
    db = hub_db(tmp_path)
    broadcaster = Broadcaster("unused", PortalStore(f"sqlite:///{tmp_path}/portal.sqlite"))
    targets = [Target(u, f"http://127.0.0.1:1/user/{u}/") for u in ("bob", "alice")]
    targets.append(Target("bob", "http://127.0.0.1:1/user/bob/gpu/", server="gpu"))
    first = await broadcaster.credentials(db, targets)
    assert await broadcaster.tokens.revoke(db, "bob") == 2  # his named server's too
    assert orm.APIToken.find(db, first("bob/"), kind="service") is None
    assert orm.APIToken.find(db, first("bob/gpu"), kind="service") is None
    assert orm.APIToken.find(db, first("alice/"), kind="service") is not None
    again = await broadcaster.credentials(db, targets)
    assert again("bob/") != first("bob/")  # minted anew, never the revoked one from the cache
    assert again("bob/gpu") != first("bob/gpu")
    assert again("alice/") == first("alice/")
    assert await broadcaster.tokens.revoke(db, "nobody") == 0


async def test_a_cached_token_serves_only_the_account_it_was_minted_for(tmp_path):
    db = hub_db(tmp_path)
    db.add(orm.User(name="bob"))
    db.commit()
    broadcaster = Broadcaster("unused", PortalStore(f"sqlite:///{tmp_path}/portal.sqlite"))
    targets = [Target("bob", "http://127.0.0.1:1/user/bob/")]
    first = await broadcaster.credentials(db, targets)
    assert (await broadcaster.credentials(db, targets))("bob/") == first("bob/")  # reused
    # Renamed (not deleted, so nothing revoked): a new account takes the name.
    db.query(orm.User).filter_by(name="bob").one().name = "carol"
    db.add(orm.User(name="bob"))
    db.commit()
    assert (await broadcaster.credentials(db, targets))("bob/") != first("bob/")
