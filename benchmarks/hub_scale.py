"""Hub at scale (issue 29): 50,000 accounts, 500 groups, 2,000 running stand-ins and a year of
audit events, on SQLite and on PostgreSQL, with stock JupyterHub on the same data as baseline.

How the data gets there (not through the REST API: 50,000 sign-ups would take hours of bcrypt):
1. `make_schemas()`, in this process: JupyterHub's tables on the empty hub database, stamped
   with its Alembic head, and its default roles; the portal's store runs its Alembic
   migrations (what a first start did: it cost 10-15 s of CI's quick run). The code before
   (--before) still starts once instead, its store at its own revisions.
2. `seed()` writes straight into both databases with SQLAlchemy Core bulk inserts, in the rows
   the hub and the portal would have written themselves: `users` (with `cookie_id`, `created`,
   `last_activity` spread over a year), their `user` role (`users_roles`), NativeAuthenticator's
   `users_info` (one bcrypt hash shared by all: nobody signs in), `groups` and
   `user_group_map` (every account in one of the groups; the stand-ins also in `stubs`),
   `servers` + `spawners` rows for each running stand-in (127.0.0.1:<its port>, as the
   benchmark spawner records them), the idle-culling policy row and `audit_events`
   spread over 365 days in the portal's store.
3. The hub starts again on that data: the figures.

Measured on each engine, against the goals of issue 29:
- start: from launching the hub until /hub/health answers and the hub lists every stand-in as
  ready (< 30 s); the hub's RSS then (< 1.5 GiB);
- the admin user table (first page, a search, sorted by activity, a group filter: p50 < 30 ms,
  p99 < 100 ms), and JupyterHub's own `/hub/api/users` paging (first page, a page halfway);
- /hub/health p99 (< 50 ms) under a prober while: a usage pass over every running server, an
  idle-culling pass that warns every one (their activity set just inside the warning window),
  a broadcast to the 2,000, audit queries over the year;
- `--pages` admin pages on event streams (each reloading its table on `users-changed`, at most
  once a second, as htmx's `throttle:1s` does) while `--changes` servers stop: how long each
  change takes to reach every page (< 1 s), and the hub's CPU; then the same pages polling the
  table every 10 s instead, while the servers start again;
- the idle hub's CPU (no page open, every stand-in running): < 5% of a core.
Then stock JupyterHub (benchmarks/jupyterhub_stock_config.py: no portal) on the same database:
its start, RSS, `/hub/api/users` paging and idle CPU.

    .venv/bin/python -m benchmarks.hub_scale [--accounts N --stubs N ...] [--engines sqlite]
        [--before REV] [--quick]

(--before REV: the DS Hub scenario on the code at REV first, on the same engine, in the same
run; --quick: a few hundred accounts, a handful of stand-ins, SQLite only, seconds.)
Docker objects are named DSHUB_BENCH_PREFIX* (common.PREFIX); PostgreSQL is a throwaway server
on loopback (scripts/postgres.sh), stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt
import requests
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from portal.platform.tasks import wait_until
from tests.support.clients import PASSWORD, Portal
from tests.support.hub import Hub

from .admin_scale import cpu_seconds
from .broadcast_fanout import broadcast
from .common import (
    BENCH_CONFIG,
    PREFIX,
    ROOT,
    arguments,
    code_at,
    container_name,
    docker_client,
    machine,
    remove_bench_objects,
    rss_kib,
    run,
    save,
    settle,
    short_rev,
)
from .portal_speed import load
from .prober import Prober
from .standin_containers import standin_containers, standins_running
from .stats import measured, summary, table
from .stubs import Stubs

STOCK_CONFIG = ROOT / "benchmarks" / "jupyterhub_stock_config.py"
# Quick (CI): one DS Hub, no stock baseline (CI time; the full run measures it).
QUICK = {"accounts": 300, "groups": 10, "stubs": 6, "audit_days": 3, "audit_per_day": 40,
         "pages": 3, "changes": 2, "window": 0.5, "idle_window": 1.0, "requests": 5,
         "engines": ["sqlite"], "usage_interval": "5s", "cull_warning": 10.0, "stock": False}
CULL_IDLE_AFTER = 3600.0
ADMIN_PAGE = "page"  # page0000...: the admins whose pages hold event streams
SHARED_HASH = bcrypt.hashpw(b"not-used-by-anyone", bcrypt.gensalt(12))
# The page admins sign in (page handlers take no API token): bcrypt's cheapest cost, once each.
PAGE_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4))


# --- seeding ----------------------------------------------------------------------------------
def naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def seed(hub_url: str, store_url: str, args: argparse.Namespace, stub_ports: list[int],
         admins: list[str], servers: tuple[str, ...] = ("",)) -> dict[str, int]:
    """Write the accounts, groups, running servers and audit year into both databases (the hub
    stopped). `admins` (whose pages are opened) sign in with tests.support's PASSWORD; each
    stand-in's user runs `servers` ("": the default one; named ones share its stand-in)."""
    import sqlalchemy as sa
    from jupyterhub import orm
    from nativeauthenticator.orm import UserInfo

    from portal.store.tables import AuditEventRow, CullPolicyRow

    now = datetime.now(UTC)
    rng = random.Random(29)
    stubs = [f"stub{p}" for p in stub_ports]
    plain = max(0, args.accounts - len(stubs) - len(admins))
    names = admins + stubs + [f"user{i:05d}" for i in range(plain)]
    hub = sa.create_engine(hub_url)
    t0 = time.monotonic()
    with hub.begin() as db:
        def rows_of(table: Any, rows: list[dict[str, Any]]) -> None:
            for i in range(0, len(rows), 5000):  # bounded statements on either engine
                db.execute(sa.insert(table), rows[i:i + 5000])

        rows_of(orm.User.__table__, [{
            "name": name, "admin": name in admins, "cookie_id": uuid.uuid4().hex,
            "created": naive_utc(now - timedelta(days=400)),
            "last_activity": naive_utc(now - timedelta(seconds=rng.randrange(365 * 86400))),
        } for name in names])
        ids = dict(db.execute(sa.select(orm.User.name, orm.User.id)
                              .where(orm.User.name.in_(names))).all()) if len(names) < 900 \
            else dict(db.execute(sa.select(orm.User.name, orm.User.id)).all())
        role = dict(db.execute(sa.select(orm.Role.name, orm.Role.id)
                               .where(orm.Role.name.in_(["user", "admin"]))).all())
        # What roles.assign_default_roles gives: `user` to all, `admin` to the admins.
        rows_of(orm.Role.users.property.secondary,
                [{"user_id": ids[n], "role_id": role["user"]} for n in names]
                + [{"user_id": ids[n], "role_id": role["admin"]} for n in admins])
        pages = set(admins)
        rows_of(UserInfo.__table__, [{"username": n, "is_authorized": True,
                                      "password": PAGE_HASH if n in pages else SHARED_HASH}
                                     for n in names])
        rows_of(orm.Group.__table__, [{"name": f"group{g:03d}"} for g in range(args.groups)]
                + [{"name": "stubs"}])
        groups = dict(db.execute(sa.select(orm.Group.name, orm.Group.id)).all())
        members = [{"user_id": ids[n], "group_id": groups[f"group{i % args.groups:03d}"]}
                   for i, n in enumerate(names)]
        members += [{"user_id": ids[n], "group_id": groups["stubs"]} for n in stubs]
        rows_of(orm.user_group_map, members)
        started = naive_utc(now)
        for name, port in zip(stubs, stub_ports, strict=True):
            for server_name in servers:
                server = db.execute(sa.insert(orm.Server.__table__).values(
                    proto="http", ip="127.0.0.1", port=port,
                    base_url=f"/user/{name}/{server_name + '/' if server_name else ''}",
                    cookie_name="cookie")).inserted_primary_key[0]
                db.execute(sa.insert(orm.Spawner.__table__).values(
                    user_id=ids[name], server_id=server, name=server_name, state={},
                    started=started, last_activity=started, user_options={}))
    hub.dispose()
    seeded_hub = time.monotonic() - t0

    store = sa.create_engine(store_url)
    t0 = time.monotonic()
    events = 0
    with store.begin() as db:
        db.execute(sa.delete(CullPolicyRow.__table__))
        db.execute(sa.insert(CullPolicyRow.__table__).values(
            id=1, idle_after=CULL_IDLE_AFTER, warning=args.cull_warning,
            keep_max=8 * 3600.0, exempt=""))
        kinds = ["start", "stop", "cull", "group change", "password change", "sign-up"]
        batch: list[dict[str, Any]] = []
        for day in range(args.audit_days, 0, -1):
            for _ in range(args.audit_per_day):
                batch.append({"at": now - timedelta(days=day, seconds=rng.randrange(86400)),
                              "actor": rng.choice(names), "kind": rng.choice(kinds),
                              "target": rng.choice(names), "detail": "seeded", "ok": True})
            if len(batch) >= 5000:
                db.execute(sa.insert(AuditEventRow.__table__), batch)
                events += len(batch)
                batch = []
        if batch:
            db.execute(sa.insert(AuditEventRow.__table__), batch)
            events += len(batch)
    store.dispose()
    return {"accounts": len(names), "groups": args.groups + 1,
            "running": len(stubs) * len(servers),
            "audit_events": events, "seed_hub_s": round(seeded_hub, 1),
            "seed_store_s": round(time.monotonic() - t0, 1)}


def make_schemas(hub_url: str, store_url: str) -> None:
    """Both empty databases brought to what a first start leaves, in this process (a hub
    start and stop cost CI's quick run 10-15 s): JupyterHub's tables, stamped with its
    Alembic head, NativeAuthenticator's `users_info`, the default roles; the store migrated."""
    import nativeauthenticator.orm  # noqa: F401 (its table joins JupyterHub's metadata)
    from jupyterhub import orm, roles

    from portal.store.database import PortalStore

    db = orm.new_session_factory(hub_url)()
    for role in roles.get_default_roles():
        roles.create_role(db, role)
    db.commit()
    db.close()
    db.get_bind().dispose()
    PortalStore(store_url).session().close()


# --- engines ----------------------------------------------------------------------------------
@contextlib.contextmanager
def engine_urls(engine: str, data: Path) -> Iterator[dict[str, str]]:
    """The hub's environment for `engine`: {} for SQLite (files in the data directory), the
    two database URLs of a throwaway loopback PostgreSQL server for "postgresql"."""
    if engine == "sqlite":
        yield {}
        return
    import psycopg

    pg = Path(tempfile.mkdtemp(prefix=f"{PREFIX}pg-"))
    pg.rmdir()
    script = str(ROOT / "scripts" / "postgres.sh")
    url = subprocess.run(["bash", script, "start", str(pg)], check=True,
                         capture_output=True, text=True).stdout.strip()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for name in ("scale_hub", "scale_portal"):
                conn.execute(f'CREATE DATABASE "{name}"')
        base = url.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0]
        yield {"JUPYTERHUB_DATABASE_URL": f"{base}/scale_hub",
               "PORTAL_DATABASE_URL": f"{base}/scale_portal"}
    finally:
        subprocess.run(["bash", script, "stop", str(pg)], check=False)


@contextlib.contextmanager
def running(hub: Hub, timeout: float) -> Iterator[float]:
    """Start `hub`; yield the seconds until it answers /hub/health and lists every seeded
    stand-in as ready. Stops it at the end (its log's tail printed on failure)."""
    t0 = time.monotonic()
    try:
        hub.start(timeout=timeout)
        yield t0
    except BaseException:
        if hub.log_path.exists():
            print(f"--- hub log (tail) ---\n{hub.log_tail(60)}", flush=True)
        raise
    finally:
        hub.stop()


def ready_count(hub: Hub) -> int:
    count, offset = 0, 0
    while True:
        page = hub.api("GET", "users", params={"state": "ready", "offset": offset,
                                               "limit": 200}, timeout=120).json()
        count += sum(1 for u in page if u["name"].startswith("stub"))
        if len(page) < 200:
            return count
        offset += 200


def wait_ready(hub: Hub, expected: int, t0: float, bound: float) -> float:
    """Seconds from `t0` until the hub lists `expected` stand-ins as ready."""
    while ready_count(hub) < expected:
        if time.monotonic() - t0 > bound:
            raise TimeoutError(f"{ready_count(hub)} of {expected} stand-ins ready after "
                               f"{bound:.0f} s")
        time.sleep(0.5)
    return round(time.monotonic() - t0, 2)


# --- measures ---------------------------------------------------------------------------------
def latencies(hub: Hub, paths: dict[str, str], headers: dict[str, str],
              count: int) -> dict[str, Any]:
    """p50/p99 of each GET (keep-alive, one connection, straight to the hub's port)."""
    out = {}
    for name, path in paths.items():
        asyncio.run(load("127.0.0.1", hub.ports["hub"], path, headers, 3, 1))  # warm-up
        lat, errors, _ = asyncio.run(load("127.0.0.1", hub.ports["hub"], path, headers,
                                          count, 1))
        measured(f"requests ({name})", lat)
        if errors:
            raise RuntimeError(f"{name}: {errors} of {count} requests failed ({path})")
        out[name] = summary(lat)
    return out


def hub_api_paging(hub: Hub, accounts: int, count: int) -> dict[str, Any]:
    base = "/hub/api/users?limit=50"
    return latencies(hub, {"api first page": f"{base}&offset=0",
                           "api page halfway": f"{base}&offset={accounts // 2}"},
                     {"Authorization": f"token {hub.token}"}, count)


def engine_pid() -> int | None:
    """The Docker engine's process where scripts/ensure-docker.sh started it (else unknown)."""
    path = Path(os.environ.get("DSHUB_DOCKER_PIDFILE", "/var/run/dshub-dockerd.pid"))
    with contextlib.suppress(OSError, ValueError):
        pid = int(path.read_text())
        cpu_seconds(pid)
        return pid
    return None


def cpu_window(pid: int, seconds: float) -> dict[str, float]:
    """The hub's CPU over `seconds` (and the engine's: what the hub's Docker calls cost it)."""
    engine = engine_pid()
    c0, e0, t0 = cpu_seconds(pid), engine and cpu_seconds(engine), time.monotonic()
    time.sleep(seconds)
    used, took = cpu_seconds(pid) - c0, time.monotonic() - t0
    out = {"cpu_s": round(used, 2), "seconds": round(took, 1),
           "core_percent": round(used / took * 100, 1)}
    if engine:
        out["engine_core_percent"] = round((cpu_seconds(engine) - e0) / took * 100, 1)
    return out


def lab_containers(users: list[str]) -> frozenset[str]:
    """The stand-ins' idle containers (benchmarks/standin_containers.py): kept between runs."""
    return frozenset(container_name(user) for user in users)


def usage_state(hub: Hub) -> dict[str, Any]:
    """The sampler's counters and the labs it holds a sample of (memory measured)."""
    r = requests.get(hub.hub_url("portal/api/usage"), timeout=60,
                     headers={"Authorization": f"token {hub.token}"})
    r.raise_for_status()
    body = r.json()
    return {"passes": int(body["passes"]), "docker_calls": body["docker_calls"],
            "last_pass_s": body["last_pass_seconds"],
            "labs_sampled": sum(lab["memory_bytes"] is not None for lab in body["labs"])}


def usage_passes(hub: Hub) -> int:
    return usage_state(hub)["passes"]


def probed(hub: Hub, what: Any, label: str = "") -> tuple[dict[str, Any], Any]:
    """/hub/health under the prober while `what()` runs: (its summary, what returned).

    DSHUB_BENCH_PYSPY=<py-spy's path>: the hub is also profiled over the window (the stacks
    that held the interpreter lock, py-spy's raw format) into /tmp/dshub-spy-<label>.txt."""
    spy = None
    if os.environ.get("DSHUB_BENCH_PYSPY") and label:
        spy = subprocess.Popen([os.environ["DSHUB_BENCH_PYSPY"], "record", "--pid",
                                str(hub.proc.pid), "--rate", "200", "--gil", "--nonblocking",
                                "--format", "raw", "--output", f"/tmp/dshub-spy-{label}.txt"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with Prober("127.0.0.1", hub.ports["hub"], "/hub/health") as prober:
            result = what()
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes what it has, then ends
            spy.wait(timeout=60)
    return prober.summary(), result


# The longest a page's stream is held past its window while changes are still being made.
HOLD_BOUND = 90.0


class Pages:
    """Admin pages on event streams, as the user table does (portal.js): on `users-changed`
    naming a user its page shows, or "," (accounts or groups changed), it reloads its rows (at
    most once a second); `card-<name>` events are timed per change. Each page shows the table's
    first page by name (the admins page0000...), as an admin who opens the page sees it."""

    def __init__(self, hub: Hub, cookies: list[str]) -> None:
        self.hub, self.cookies = hub, cookies
        self.arrived: dict[str, list[float]] = {}  # stub name -> monotonic arrival per page
        self.reloads = 0
        self.told = 0  # users-changed events that reached a page
        self.opened = 0

    def shown(self, base: str) -> set[str]:
        """The users on the pages' table (one view, the same for every page)."""
        html = requests.get(f"{base}/admin/user-table?size=50", timeout=60,
                            headers={"Cookie": self.cookies[0], "HX-Request": "true"}).text
        return set(re.findall(r'<tr data-user="([^"]+)"', html))

    async def hold(self, window: float, until: Any = lambda: True) -> None:
        """Hold every page's stream for `window` seconds and then until `until()` (the changes'
        deliveries are counted while their streams are open: on a loaded machine the changes
        themselves can take longer than the window, and a quick run then measured none)."""
        base = f"http://127.0.0.1:{self.hub.ports['hub']}/hub/portal"
        shown = self.shown(base)
        client = AsyncHTTPClient(force_instance=True, max_clients=2 * len(self.cookies) + 5)

        def affected(event: bytes) -> bool:
            names = event.split(b"\ndata: ", 1)[-1].decode().split(" ")
            # "1": the code before (--before) named nobody, and its pages reloaded every time.
            return names == ["1"] or "," in names or not shown.isdisjoint(names)

        async def page(cookie: str) -> None:
            headers = {"Cookie": cookie}
            last_reload, buffer = 0.0, b""
            tasks: set[asyncio.Task] = set()

            def on_chunk(chunk: bytes) -> None:
                nonlocal last_reload, buffer
                buffer += chunk
                *events, buffer = buffer.split(b"\n\n")
                now = time.monotonic()
                for event in events:
                    if event.startswith(b": connected"):
                        self.opened += 1
                    elif event.startswith(b"event: card-"):
                        name = event.split(b"\n")[0][len(b"event: card-"):].decode()
                        self.arrived.setdefault(name, []).append(now)
                    elif event.startswith(b"event: users-changed"):
                        self.told += 1
                        if now - last_reload < 1 or not affected(event):
                            continue
                        last_reload = now
                        self.reloads += 1
                        task = asyncio.ensure_future(client.fetch(
                            f"{base}/admin/user-table?refresh=1&size=50",
                            headers={**headers, "HX-Request": "true"}, raise_error=False))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)

            try:
                await client.fetch(HTTPRequest(f"{base}/events", headers=headers,
                                               streaming_callback=on_chunk,
                                               request_timeout=window + HOLD_BOUND),
                                   raise_error=False)
            finally:
                if tasks:
                    await asyncio.wait(tasks, timeout=30)

        pages = [asyncio.ensure_future(page(t)) for t in self.cookies]
        await asyncio.sleep(window)
        await wait_until(until, HOLD_BOUND, 0.1)
        for task in pages:
            task.cancel()
        await asyncio.gather(*pages, return_exceptions=True)
        client.close()


async def poll_tables(hub: Hub, cookies: list[str], window: float, every: float) -> int:
    """The same pages polling the table every `every` seconds instead; requests made."""
    url = f"http://127.0.0.1:{hub.ports['hub']}/hub/portal/admin/user-table?refresh=1&size=50"
    client = AsyncHTTPClient(force_instance=True, max_clients=len(cookies) + 5)
    made = 0
    deadline = time.monotonic() + window

    async def page(cookie: str, offset: float) -> None:
        nonlocal made
        await asyncio.sleep(offset)
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):  # a hub too busy to answer: still a poll
                await client.fetch(url, headers={"Cookie": cookie, "HX-Request": "true"},
                                   raise_error=False, request_timeout=60)
            made += 1
            await asyncio.sleep(max(0.0, min(every, deadline - time.monotonic())))

    await asyncio.gather(*(page(t, i * every / len(cookies)) for i, t in enumerate(cookies)))
    client.close()
    return made


def change_servers(hub: Hub, names: list[str], method: str, window: float,
                   streams_open: Any = lambda: True) -> dict[str, float]:
    """Stop (DELETE) or start (POST) each server, spread over most of `window`, once
    `streams_open()` (or after a tenth of the window): {name: when} of those the hub accepted.
    A hub too busy to answer within 60 s is a figure (the changes missing), not the end of the
    run."""
    issued = {}
    gap = window * 0.7 / max(1, len(names))
    deadline = time.monotonic() + max(1.0, window * 0.1)
    while not streams_open() and time.monotonic() < deadline:
        time.sleep(0.05)
    for name in names:
        at = time.monotonic()
        try:
            r = hub.api(method, f"users/{name}/server", timeout=60)
        except requests.RequestException as e:
            print(f"{method} {name}'s server: {type(e).__name__}", flush=True)
            continue
        if r.status_code in (201, 202, 204):
            issued[name] = at
        time.sleep(gap)
    return issued


def pushed_and_polling(hub: Hub, args: argparse.Namespace, cookies: list[str],
                       stubs: list[str]) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    pid = hub.proc.pid
    changing = stubs[:args.changes]
    window = max(args.window * 3, 3.0)  # the streams open before the first change
    pages = Pages(hub, cookies)
    c0, t0 = cpu_seconds(pid), time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        issued_f = pool.submit(change_servers, hub, changing, "DELETE", window,
                               lambda: pages.opened >= len(cookies))
        issued_at: list[float] = []
        issued_f.add_done_callback(lambda _: issued_at.append(time.monotonic()))

        def delivered() -> bool:
            """Every change issued and seen by every page, or 5 s gone since the last one was
            issued (what comes later is missing: the goal is 1 s)."""
            if not issued_at:
                return False
            seen = all(len(pages.arrived.get(name, ())) >= len(cookies)
                       for name in issued_f.result())
            return seen or time.monotonic() - issued_at[0] > 5.0

        asyncio.run(pages.hold(window, delivered))
        issued = issued_f.result()
    took = time.monotonic() - t0
    pushed_cpu = cpu_seconds(pid) - c0
    measured("event streams opened", pages.opened, len(cookies))
    delays = []
    missing = 0
    for name, at in issued.items():
        seen = [a - at for a in pages.arrived.get(name, []) if a >= at]
        missing += len(cookies) - min(len(cookies), len(seen))
        delays += sorted(seen)[:len(cookies)]
    measured("changes that reached a page", delays)
    refused = len(changing) - len(issued)
    print(f"pushed: {len(delays)} deliveries, {missing} missing, {refused} changes refused, "
          f"hub CPU {pushed_cpu:.1f} s in {took:.0f} s, {pages.reloads} reloads", flush=True)
    c0, t0 = cpu_seconds(pid), time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        again = pool.submit(change_servers, hub, changing, "POST", window)
        made = asyncio.run(poll_tables(hub, cookies, window, 10.0))
        again.result()
    poll_took = time.monotonic() - t0
    polling_cpu = cpu_seconds(pid) - c0
    measured("table polls made", made)
    return {
        "pages": len(cookies), "changes": len(changing), "changes_not_accepted": refused,
        "delivery_ms": summary([d * 1000 for d in delays]), "deliveries_missing": missing,
        "pushed": {"seconds": round(took, 1), "hub_cpu_s": round(pushed_cpu, 2),
                   "core_percent": round(pushed_cpu / took * 100, 1),
                   "table_reloads": pages.reloads, "table_told": pages.told},
        "polling_10s": {"seconds": round(poll_took, 1), "hub_cpu_s": round(polling_cpu, 2),
                        "core_percent": round(polling_cpu / poll_took * 100, 1),
                        "table_polls": made},
    }


def signed_in(hub: Hub, admins: list[str]) -> list[str]:
    """A session cookie header per admin (page handlers take no API token), two sign-ins at
    once (the throttle's bound on checks in flight from one address)."""
    from concurrent.futures import ThreadPoolExecutor

    from .common import cookie_header

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda name: cookie_header(Portal(hub, name, PASSWORD)), admins))


def set_activity(hub: Hub, when: datetime) -> None:
    hub.sql("hub", "UPDATE spawners SET last_activity = :at WHERE server_id IS NOT NULL",
            at=naive_utc(when))


def portal_run(args: argparse.Namespace, engine: str, stubs: Stubs,
               code: Path | None = None) -> dict[str, Any]:
    """The DS Hub on freshly seeded data (`code`: a tree of the code before, common.code_at)."""
    out: dict[str, Any] = {}
    stub_ports = [p for p, _ in stubs.ports]
    stub_names = [f"stub{p}" for p in stub_ports]
    admins = [f"{ADMIN_PAGE}{i:04d}" for i in range(args.pages)]
    client = docker_client()
    remove_bench_objects(client, keep=lab_containers(stub_names))
    data = Path(tempfile.mkdtemp(prefix=f"{PREFIX}scale-"))
    # Production's intervals, not the tests': usage sampled every 30 s, its history written
    # every minute, every server polled every 30 s.
    env = {"DSHUB_BENCH_PREFIX": PREFIX, "LAB_USAGE_INTERVAL": args.usage_interval,
           "USAGE_FLUSH_INTERVAL": "1m", "DSHUB_BENCH_POLL_INTERVAL": "30"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    config = BENCH_CONFIG if code is None else code / BENCH_CONFIG.relative_to(ROOT)
    try:
        with engine_urls(engine, data) as urls:
            env.update(urls)
            hub = Hub(data, base_url="/", env=env, config=config)
            if code is None:
                make_schemas(hub.database_url, store_url(hub))
            else:  # the code before may stand at other revisions: its own first start
                with running(hub, 120):
                    pass
            out["seeded"] = seed(hub.database_url, store_url(hub), args, stub_ports, admins)
            print(f"[{engine}] seeded: {out['seeded']}", flush=True)
            with running(hub, args.start_bound) as t0:
                out["start_s"] = wait_ready(hub, len(stub_names), t0, args.start_bound)
                out["rss_after_start_mib"] = round(rss_kib(hub.proc.pid)["VmRSS"] / 1024)
                print(f"[{engine}] DS Hub ready in {out['start_s']} s, RSS "
                      f"{out['rss_after_start_mib']} MiB", flush=True)
                settle(args, 15)
                out["idle"] = {**cpu_window(hub.proc.pid, args.idle_window),
                               "usage": usage_state(hub)}
                print(f"[{engine}] idle hub: {out['idle']}", flush=True)
                if args.start_only:
                    return out
                cookies = signed_in(hub, admins)
                admin = {"Cookie": cookies[0], "HX-Request": "true"}
                table_path = "/hub/portal/admin/user-table?size=50"
                health, table_figures = probed(hub, label="table", what=lambda: latencies(hub, {
                    "first page": table_path,
                    "search": f"{table_path}&q=user0042",
                    "sort by activity": f"{table_path}&sort=activity&dir=desc",
                    "group filter": f"{table_path}&group=group007",
                }, admin, args.requests))
                out["table"] = {**table_figures, "health": health}
                out["api"] = hub_api_paging(hub, args.accounts, args.requests)
                print(f"[{engine}] table: {out['table']}\n[{engine}] api: {out['api']}",
                      flush=True)
                out["during"] = {}
                first = usage_passes(hub)

                def usage_window() -> int:
                    deadline = time.monotonic() + 4 * duration_s(args.usage_interval) + 60
                    while (usage_passes(hub) < first + (1 if args.quick else 2)
                           and time.monotonic() < deadline):
                        time.sleep(0.5)
                    return usage_passes(hub) - first

                health, passes = probed(hub, usage_window, "usage")
                out["during"]["usage pass"] = {**health, "passes": passes, **usage_state(hub)}
                # Every server's activity at the edge of the warning window: the next pass
                # warns every one (a notification each); their stop would come `cull_warning`
                # seconds later, after the window (the activity is then set to now).
                set_activity(hub, datetime.now(UTC) - timedelta(
                    seconds=CULL_IDLE_AFTER - args.cull_warning))
                interval = max(1.0, min(60.0, args.cull_warning / 5))
                health, _ = probed(hub, lambda: time.sleep(interval + 2), "culling")
                set_activity(hub, datetime.now(UTC))
                out["during"]["culling pass"] = health
                health, sent = probed(hub, lambda: broadcast(hub, "stubs", "hub_scale"),
                                      "broadcast")
                out["during"]["broadcast"] = {**health, "delivered": sent[0]["delivered"],
                                              "send_s": sent[0]["seconds"]}
                year = (datetime.now(UTC) - timedelta(days=365)).date().isoformat()
                audit_paths = {"audit: a year": f"/hub/portal/api/audit?since={year}&limit=50",
                               "audit: a user over a year":
                                   f"/hub/portal/api/audit?since={year}&user=user00042",
                               "audit: a kind, 5,000 rows":
                                   f"/hub/portal/api/audit?since={year}&kind=cull&limit=5000"}
                health, audit = probed(hub, lambda: latencies(
                    hub, audit_paths, {"Authorization": f"token {hub.token}"},
                    max(3, args.requests // 10)), "audit")
                out["during"]["audit queries"] = {**health, "queries": audit}
                print(f"[{engine}] during: {out['during']}", flush=True)
                out["pages"] = pushed_and_polling(hub, args, cookies, stub_names)
                out["rss_end_mib"] = round(rss_kib(hub.proc.pid)["VmRSS"] / 1024)
                print(f"[{engine}] pages: {out['pages']}", flush=True)
            if code is None and args.stock:
                out["stock"] = stock_run(args, data, env, len(stub_names))
    finally:
        remove_bench_objects(client, keep=lab_containers(stub_names))
        shutil.rmtree(data, ignore_errors=True)
    return out


def stock_run(args: argparse.Namespace, data: Path, env: dict[str, str],
              running_count: int) -> dict[str, Any]:
    """Stock JupyterHub on the same seeded database (the DS Hub stopped): the baseline."""
    stock_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    hub = Hub(data, base_url="/", env=stock_env, config=STOCK_CONFIG)
    out: dict[str, Any] = {}
    with running(hub, args.start_bound) as t0:
        out["start_s"] = wait_ready(hub, running_count, t0, args.start_bound)
        out["rss_after_start_mib"] = round(rss_kib(hub.proc.pid)["VmRSS"] / 1024)
        settle(args, 15)
        out["idle"] = cpu_window(hub.proc.pid, args.idle_window)
        out["api"] = hub_api_paging(hub, args.accounts, args.requests)
    print(f"stock JupyterHub: {out}", flush=True)
    return out


def store_url(hub: Hub) -> str:
    from portal.platform.settings import load_settings

    return load_settings({"JUPYTERHUB_DATA_DIR": str(hub.data_dir),
                          **hub.extra_env}).store_url


def duration_s(text: str) -> float:
    from portal.platform.settings_parsers import duration

    return float(duration(text))


# --- report -----------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def report(runs: dict[str, dict[str, Any]]) -> None:
    rows = []
    for name, r in runs.items():
        rows.append([name, "start until health + all running (< 30 s)", r["start_s"],
                     verdict(r["start_s"] < 30)])
        rows.append([name, "RSS after start, MiB (< 1536)", r["rss_after_start_mib"],
                     verdict(r["rss_after_start_mib"] < 1536)])
        for query, s in r.get("table", {}).items():
            if query != "health":
                rows.append([name, f"table {query}, p50/p99 ms", f"{s['p50_ms']} / {s['p99_ms']}",
                             verdict(s["p50_ms"] < 30 and s["p99_ms"] < 100)])
        for query, s in r.get("api", {}).items():
            rows.append([name, f"{query} (/hub/api/users), p50/p99 ms",
                         f"{s['p50_ms']} / {s['p99_ms']}", "-"])
        for what, s in r.get("during", {}).items():
            rows.append([name, f"/hub/health p99 during {what}, ms", s["p99_ms"],
                         verdict(s["p99_ms"] < 50)])
        p = r.get("pages")
        if p is not None:
            rows.append([name, f"{p['pages']} pages, {p['changes']} changes: delivery p99 ms",
                         f"{p['delivery_ms']['p99_ms']} (missing {p['deliveries_missing']})",
                         verdict(p["delivery_ms"]["p99_ms"] < 1000
                                 and not p["deliveries_missing"])])
            rows.append([name, "hub CPU % pushed vs polling every 10 s",
                         f"{p['pushed']['core_percent']} vs {p['polling_10s']['core_percent']}",
                         verdict(p["pushed"]["hub_cpu_s"] < p["polling_10s"]["hub_cpu_s"])])
        rows.append([name, "idle hub CPU, % of a core (< 5)", r["idle"]["core_percent"],
                     verdict(r["idle"]["core_percent"] < 5)])
        stock = r.get("stock")
        if stock:
            rows.append([name, "stock JupyterHub: start until health + all running, s",
                         stock["start_s"], "-"])
            rows.append([name, "stock JupyterHub: RSS after start, MiB",
                         stock["rss_after_start_mib"], "-"])
            rows.append([name, "stock JupyterHub: idle CPU, % of a core",
                         stock["idle"]["core_percent"], "-"])
            for query, s in stock.get("api", {}).items():
                rows.append([name, f"stock JupyterHub: {query}, p50/p99 ms",
                             f"{s['p50_ms']} / {s['p99_ms']}", "-"])
    print(table(["run", "measure (goal)", "figure", "goal"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--stubs", type=int, default=2000, help="running stand-ins")
    parser.add_argument("--audit-days", type=int, default=365)
    parser.add_argument("--audit-per-day", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=500, help="admin pages on event streams")
    parser.add_argument("--changes", type=int, default=100, help="servers changing state")
    parser.add_argument("--window", type=float, default=20.0, help="seconds per page window")
    parser.add_argument("--idle-window", type=float, default=0.0,
                        help="seconds of idle CPU (default: 3 x --window)")
    parser.add_argument("--lab-containers", type=int, default=-1,
                        help="stand-ins with an idle container to sample (default: all)")
    parser.add_argument("--requests", type=int, default=200, help="requests per table query")
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--usage-interval", default="30s", help="LAB_USAGE_INTERVAL")
    parser.add_argument("--cull-warning", type=float, default=60.0,
                        help="the seeded culling policy's warning, seconds")
    parser.add_argument("--start-bound", type=float, default=900.0,
                        help="seconds a hub may take to start")
    parser.add_argument("--no-stock", dest="stock", action="store_false",
                        help="leave out stock JupyterHub's baseline")
    parser.add_argument("--start-only", action="store_true",
                        help="only the start, its RSS and the idle hub (the rest skipped)")
    parser.add_argument("--before", default="",
                        help="git revision of the code before: run it first, same session")
    args = arguments(parser, QUICK)
    args.idle_window = args.idle_window or 3 * args.window
    out: dict[str, Any] = {"machine": machine(), "sizes": {
        k: getattr(args, k) for k in ("accounts", "groups", "stubs", "audit_days",
                                      "audit_per_day", "pages", "changes")}, "runs": {}}
    with Stubs(args.stubs, 0) as stubs:
        names = [f"stub{p}" for p, _ in stubs.ports]
        labs = names if args.lab_containers < 0 else names[:args.lab_containers]
        client = docker_client()
        # Left by a run stopped before its end; the stand-ins' containers are reused (KEEP).
        remove_bench_objects(client, keep=standins_running(client))
        with standin_containers(client, labs) as took:
            out["lab_containers"] = {"count": len(labs), "start_s": took}
            print(f"{len(labs)} stand-in lab containers started in {took} s", flush=True)
            engines(args, stubs, out)
    report(out["runs"])
    save("hub_scale_start" if args.start_only else "hub_scale", out, quick=args.quick)


def engines(args: argparse.Namespace, stubs: Stubs, out: dict[str, Any]) -> None:
    """Each engine's runs (the code before first, with --before), into out["runs"]."""
    for engine in args.engines:
        if args.before:
            print(f"--- {engine}, before ({short_rev(args.before)}) ---", flush=True)
            with code_at(args.before) as tree:
                out["runs"][f"{engine}, before ({short_rev(args.before)})"] = \
                    portal_run(args, engine, stubs, tree)
        print(f"--- {engine}, this checkout ---", flush=True)
        out["runs"][f"{engine}, this checkout"] = portal_run(args, engine, stubs)


if __name__ == "__main__":
    run(main)
