"""Owns the per-lab broadcast tokens: minted in one commit off the event loop, reused a while.

Each recipient's server gets a token that opens only that server (`access:servers!server=u/`
for a default server, `u/name` for a named one); servers are named by that `user/server` path.
Minting one per recipient with `Service.new_api_token` commits the hub database once per token
on the event loop: 1,000 recipients held the hub for seconds (benchmarks/broadcast_fanout.py).
Here the missing tokens are written in ONE commit, in a thread with a session of its own, and
a token is reused by later broadcasts while it has at least `REUSE_MARGIN` seconds left, so a
second broadcast sent while the first still runs mints nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from jupyterhub import orm
from jupyterhub.utils import new_token
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

TOKEN_LIFETIME = 300  # seconds a per-lab token stays valid
REUSE_MARGIN = 60  # reuse a cached token only while it has at least this long left
NOTE = "portal broadcast (one server)"
CHUNK = 50  # rows flushed at a time when minting
PAUSE = 0.003  # seconds the minting thread leaves the interpreter to the event loop per chunk


def lab_scope(lab: str) -> str:
    """The scope opening one server, `lab` its `user/server` path (`user/`: the default)."""
    return f"access:servers!server={lab}"


def lab_path(user: str, server: str = "") -> str:
    return f"{user}/{server}"


def _add_tokens(db: Any, service: Any, labs: list[str], lifetime: int,
                between_chunks: Callable[[], None] = lambda: None) -> dict[str, str]:
    """The rows `Service.new_api_token` would write, without its commit per token.

    Every scope is `access:servers!server=<user>/<server>`, a subset of the service's own
    `access:servers` (its role, registered by portal.broadcast.broadcaster.register). Rows are
    flushed `CHUNK` at a time with `between_chunks()` after each: in a thread, a pause that hands
    the interpreter lock back to the event loop (one flush of 1,000 rows held it for 100 ms and
    more); still one commit.
    """
    expires = orm.APIToken.now() + timedelta(seconds=lifetime)
    minted = {}
    for lab in labs:
        secret = new_token()
        row = orm.APIToken(generated=True, note=NOTE, client_id="jupyterhub",
                           scopes=[lab_scope(lab)])
        db.add(row)
        row.token = secret  # hashed by the model (one round: generated tokens)
        row.service = service
        row.expires_at = expires
        minted[lab] = secret
        if len(minted) % CHUNK == 0:
            db.flush()
            between_chunks()
    db.commit()
    return minted


def mint_in_own_session(engine: Any, service_id: int, labs: list[str],
                        lifetime: int) -> dict[str, str]:
    """Thread body: a session of its own (sessions are not thread-safe; the engine is)."""
    with Session(bind=engine, expire_on_commit=False) as db:
        service = db.get(orm.Service, service_id)
        if service is None:
            raise RuntimeError("the broadcast service is not registered")
        return _add_tokens(db, service, labs, lifetime, lambda: time.sleep(PAUSE))


def _user_ids(db: Any, users: list[str]) -> dict[str, int]:
    """{name: hub user id} of those users, in one query per 500 names."""
    ids: dict[str, int] = {}
    names = sorted(set(users))
    for start in range(0, len(names), 500):
        chunk = names[start:start + 500]
        ids.update(db.query(orm.User.name, orm.User.id).filter(orm.User.name.in_(chunk)).all())
    return ids


class LabTokens:
    """Per-lab tokens of one service, cached until shortly before they expire."""

    def __init__(self, service_name: str, lifetime: int = TOKEN_LIFETIME,
                 reuse_margin: int = REUSE_MARGIN) -> None:
        self.service_name = service_name
        self.lifetime = lifetime
        self.reuse_margin = reuse_margin
        # server path -> (token, monotonic expiry, the account's id): a cached token is reused
        # only for the account it was minted for, never for a later account of the same name.
        self._cache: dict[str, tuple[str, float, int | None]] = {}
        self._lock = asyncio.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-tokens")
        self.minted = 0  # how many this process minted (logs, tests)

    async def for_labs(self, db: Any, labs: list[str]) -> dict[str, str]:
        """A token for each server (by `user/server` path): cached ones, the rest minted in
        one commit."""
        async with self._lock:  # a concurrent broadcast waits, then finds them cached
            now = time.monotonic()
            ids = _user_ids(db, [lab.partition("/")[0] for lab in labs])
            tokens = {lab: t for lab, (t, until, uid) in self._cache.items()
                      if until - now >= self.reuse_margin
                      and uid == ids.get(lab.partition("/")[0])}
            missing = sorted({lab for lab in labs if lab not in tokens})
            if missing:
                service = orm.Service.find(db, self.service_name)
                if service is None:
                    raise RuntimeError(f"the {self.service_name} service is not registered")
                engine = db.get_bind()
                if isinstance(engine.pool, StaticPool):
                    # One shared connection (an in-memory database): stay on the hub's session.
                    minted = _add_tokens(db, service, missing, self.lifetime)
                else:
                    minted = await asyncio.get_running_loop().run_in_executor(
                        self._pool, mint_in_own_session, engine, service.id, missing,
                        self.lifetime)
                until = now + self.lifetime
                self._cache = {u: v for u, v in self._cache.items() if v[1] - now > 0}
                self._cache.update({lab: (t, until, ids.get(lab.partition("/")[0]))
                                    for lab, t in minted.items()})
                tokens.update(minted)
                self.minted += len(minted)
            return {lab: tokens[lab] for lab in labs}

    async def revoke(self, db: Any, user: str) -> int:
        """Forget and delete every token of `user`'s servers: their account is being deleted.

        The scope names the lab by user name only, so until it expired such a token would open
        the lab of the next account of that name (and the cache would hand it to that lab).
        """
        async with self._lock:  # after any mint in flight, which may be for this very user
            prefix = lab_path(user)  # no user name holds a "/": only this user's servers
            self._cache = {lab: v for lab, v in self._cache.items()
                           if not lab.startswith(prefix)}
            service = orm.Service.find(db, self.service_name)
            if service is None:
                return 0
            rows = [t for t in db.query(orm.APIToken).filter(
                orm.APIToken.service_id == service.id, orm.APIToken.note == NOTE)
                if len(t.scopes) == 1 and t.scopes[0].startswith(lab_scope(prefix))]
            for row in rows:
                db.delete(row)
            db.commit()
            return len(rows)
