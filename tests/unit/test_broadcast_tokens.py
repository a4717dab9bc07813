"""Per-lab broadcast tokens on the hub's real ORM (SQLite): one commit, off the loop, reused."""

from __future__ import annotations

import threading

from jupyterhub import orm
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.broadcast.broadcaster import SERVICE_NAME, Broadcaster
from portal.broadcast.targets import Target
from portal.store.database import PortalStore


def hub_db(tmp_path):
    factory = orm.new_session_factory(f"sqlite:///{tmp_path}/jupyterhub.sqlite")
    db = factory()
    db.add(orm.OAuthClient(identifier="jupyterhub"))
    db.add(orm.Service(name=SERVICE_NAME))
    db.commit()
    return db


async def test_tokens_are_minted_in_one_commit_off_the_loop_and_reused(tmp_path):
    db = hub_db(tmp_path)
    broadcaster = Broadcaster("unused", PortalStore(f"sqlite:///{tmp_path}/portal.sqlite"))
    targets = [Target(f"u{i}", f"http://127.0.0.1:1/user/u{i}/") for i in range(300)]
    targets.append(Target("stopped", None, "not running"))
    commits: list[int] = []

    def count(session: Session) -> None:
        commits.append(threading.get_ident())

    event.listen(Session, "after_commit", count)
    try:
        async def run() -> tuple:
            loop_thread = threading.get_ident()
            first = await broadcaster.credentials(db, targets)
            after_first = list(commits)
            # A second broadcast (a moment later, or while the first still sends): no minting.
            second = await broadcaster.credentials(db, targets[:50])
            return loop_thread, first, after_first, second

        loop_thread, first, after_first, second = await run()
    finally:
        event.remove(Session, "after_commit", count)

    assert len(after_first) == 1, f"{len(after_first)} commits for 300 tokens"
    assert after_first[0] != loop_thread, "the tokens were committed on the event loop"
    assert len(commits) == 1, "the second broadcast minted again"
    assert broadcaster.tokens.minted == 300
    for user in ("u0", "u299"):
        row = orm.APIToken.find(db, first(f"{user}/"), kind="service")
        assert row is not None and row.service.name == SERVICE_NAME
        assert row.scopes == [f"access:servers!server={user}/"] and row.expires_at is not None
    assert second("u7/") == first("u7/")
    # A named server's token opens that server only.
    named = await broadcaster.credentials(db, [Target("u1", "http://127.0.0.1:1/user/u1/x/",
                                                      server="x")])
    row = orm.APIToken.find(db, named("u1/x"), kind="service")
    assert row is not None and row.scopes == ["access:servers!server=u1/x"]
    assert named("u1/x") != first("u1/")
    # Each token opens only its own server; a stopped server gets none.
    assert first("u1/") != first("u2/")
    try:
        first("stopped/")
    except KeyError:
        pass
    else:
        raise AssertionError("a server that is not running got a token")
