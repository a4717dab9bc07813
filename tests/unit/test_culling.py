"""Idle culling's pass over the hub's database: chunked, the same decisions as one block."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from jupyterhub import orm

from portal.broadcast.results import Delivery
from portal.governance.cull_plan import epoch, plan
from portal.governance.cull_policy import CullPolicy, CullPolicyStore
from portal.governance.culling import Culler

HOUR = 3600.0
POLICY = CullPolicy(idle_after=8 * HOUR, warning=HOUR, keep_max=8 * HOUR, exempt=("staff",))
NOW = datetime(2026, 12, 1, 12, 0, 0)


def hub_db(tmp_path):
    """Users with idle times of 0 to 11 h: running or not, exempt or not, one never active;
    some with a named server, idle for 20 h or active now."""
    db = orm.new_session_factory(f"sqlite:///{tmp_path}/jupyterhub.sqlite")()
    staff, other = orm.Group(name="staff"), orm.Group(name="other")
    db.add_all([staff, other])
    expected: list[tuple[str, float]] = []  # (server key, last activity): running, not exempt
    for i in range(37):
        user = orm.User(name=f"u{i:02d}")
        running = i % 9 != 4
        server = orm.Server() if running else None
        last = NOW - timedelta(minutes=20 * i)
        spawner = orm.Spawner(name="", user=user, server=server, started=NOW - timedelta(hours=12),
                              last_activity=None if i == 30 else last)
        db.add_all([user, spawner] + ([server] if server else []))
        if i % 7 == 3:
            staff.users.append(user)
        if i % 5 == 1:
            other.users.append(user)
        if i % 6 == 2:  # a named server: decided on its own activity, not the default's
            named, named_last = orm.Server(), NOW - timedelta(hours=20 if i % 12 == 2 else 0)
            db.add_all([named, orm.Spawner(name="extra", user=user, server=named,
                                           last_activity=named_last)])
            if i % 7 != 3:
                expected.append((f"{user.name}/extra", epoch(named_last)))
        if running and i % 7 != 3:
            expected.append((user.name, epoch(spawner.started if i == 30 else last)))
    db.commit()
    return db, expected


def culler(busy: set[str]) -> Culler:
    operations = SimpleNamespace(current=lambda name: "restart" if name in busy else None)
    c = Culler(CullPolicyStore(None, None, POLICY), operations, None, None, None)  # type: ignore[arg-type]

    async def nothing(*args):
        return None

    c._warn = c._warn_all = c._cull = nothing
    return c


@pytest.mark.parametrize("chunk", [1, 2, 5, 8, 500])
async def test_a_chunked_pass_decides_as_one_block_would(tmp_path, chunk):
    db, servers = hub_db(tmp_path)
    now = epoch(NOW)
    busy = {"u27"}
    keep = {"u26": now + HOUR, "u25": now + 5 * HOUR}  # one back in the window, one past it
    warned = {"u22": now - 22 * 20 * 60 + POLICY.idle_after}  # warned already for this stop
    reference = plan(now, servers, POLICY, dict(keep), dict(warned), set(), busy.__contains__)
    assert reference.cull and reference.warn  # the data covers both decisions

    c = culler(busy)
    c.keep_until, c.warned = dict(keep), dict(warned)
    decided = await c.pass_once(SimpleNamespace(db=db), now=now, chunk=chunk)

    assert sorted(decided.cull) == sorted(reference.cull)
    assert sorted(decided.warn) == sorted(reference.warn)
    assert "u03" not in decided.cull  # staff: never
    # Each server on its own: u02's named server idle for 20 h goes, its active default stays;
    # u32's idle default goes, its active named server stays.
    assert "u02/extra" in decided.cull and "u02" not in decided.cull
    assert "u32" in decided.cull and "u32/extra" not in decided.cull
    assert all(c.warned[name] == at for name, at in decided.warn)
    # A second pass warns nobody again.
    again = await c.pass_once(SimpleNamespace(db=db), now=now, chunk=chunk)
    assert again.warn == [] and sorted(again.cull) == sorted(reference.cull)


async def test_a_pass_gives_the_loop_back_between_chunks(tmp_path):
    db, servers = hub_db(tmp_path)
    turns = 0
    done = False

    async def other_work() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.ensure_future(other_work())
    await asyncio.sleep(0)
    before = turns
    await culler(set()).pass_once(SimpleNamespace(db=db), now=epoch(NOW) + 10 * HOUR, chunk=4)
    done = True
    await ticker
    # Everything running is past its idle time then: one turn of other work per full chunk.
    assert turns - before >= len(servers) // 4


async def test_a_passs_warnings_go_out_as_one_send():
    """Every warned server in one credentials call and one bounded send, each with its own
    stop time; each warning is audited."""
    calls: dict[str, list] = {"credentials": [], "sent": [], "audited": []}

    class Broadcaster:
        async def credentials(self, db, targets):
            calls["credentials"].append([t.user for t in targets])
            return str

        async def notify_each(self, messages, credential):
            calls["sent"].append([(t.user, p["message"]) for t, p in messages])
            return [Delivery(t.user, True, "delivered") for t, _ in messages]

    class Audit:
        async def record_many(self, entries):  # the chunk's warnings in one commit
            calls["commits"] = calls.get("commits", 0) + 1
            calls["audited"] += [(target, ok) for _, _, target, _, ok in entries]

    def user(name: str) -> SimpleNamespace:
        spawner = SimpleNamespace(ready=True, pending=None,
                                  server=SimpleNamespace(url=f"/user/{name}/"))
        return SimpleNamespace(name=name, spawner=spawner)

    c = Culler(CullPolicyStore(None, None, POLICY), None, Audit(), Broadcaster(),  # type: ignore[arg-type]
               None)  # type: ignore[arg-type]
    app = SimpleNamespace(users={n: user(n) for n in ("ann", "bo")}, db=None)
    await c._warn_all(app, [("ann", epoch(NOW) + HOUR), ("bo", epoch(NOW) + 2 * HOUR)])
    assert calls["credentials"] == [["ann", "bo"]]
    [sent] = calls["sent"]
    assert [u for u, _ in sent] == ["ann", "bo"] and sent[0][1] != sent[1][1]
    assert calls["audited"] == [("ann", True), ("bo", True)] and calls["commits"] == 1


async def test_a_policy_change_brings_the_next_pass_forward():
    """Off, a pass waits 30 s; an admin's change (which sets `changed`) ends the wait at once."""
    c = culler(set())
    c.policies.current = CullPolicy(0, 0, HOUR)
    waiting = asyncio.ensure_future(c._until_next_pass())
    await asyncio.sleep(0)
    assert not waiting.done()
    c.policies.changed.set()
    await asyncio.wait_for(waiting, 2)
    assert not c.policies.changed.is_set()  # the next wait is a whole interval again


async def test_keep_running_postpones_one_server_only():
    """A named server's "Keep running" keys its own postponement, audited with its name; the
    default server's stop stays where it was."""
    audited: list[str] = []

    class Audit:
        async def record(self, actor, kind, target, detail, ok=True):
            audited.append(detail)

    running = SimpleNamespace(ready=True,
                              orm_spawner=SimpleNamespace(last_activity=NOW, started=NOW))
    ann = SimpleNamespace(name="ann", spawner=running, spawners={"": running, "gpu": running},
                          orm_spawners={"": None, "gpu": None}, groups=[])
    c = Culler(CullPolicyStore(None, None, POLICY), None, Audit(), None, None)  # type: ignore[arg-type]
    until = await c.keep_running(ann, "ann", "gpu")  # type: ignore[arg-type]
    assert c.keep_until == {"ann/gpu": until}
    assert audited[0].startswith("kept running until") and audited[0].endswith("(server 'gpu')")
    assert c.card_stop_at(ann, "gpu") == until  # type: ignore[arg-type]
    assert c.card_stop_at(ann) == epoch(NOW) + POLICY.idle_after  # type: ignore[arg-type]
