"""Named servers at scale (issue 25): 1,000 users, each with its default server and two named
ones running (3,000 servers), and what a user's portal page and the admin user table cost then.

The users are hub users named stub<port> (benchmarks/stubs.py: a loopback stand-in each, which
answers the hub's checks; the benchmark spawner gives 127.0.0.1:<port> for every server of that
user, so its three servers share one stand-in). Both databases are seeded directly with the hub
stopped (benchmarks/hub_scale.py's `seed`: the accounts, a few groups, three running server
records a user), then the hub starts with `NAMED_SERVERS_MAX=2` and the run waits until it
lists all 3,000 as ready. The first stand-in's user signs in: its portal page is measured.

Then, with the hub's /hub/health probed every 20 ms from a process of its own, p50/p99 over one
keep-alive connection through the proxy, `--requests` each:
- the user's portal page (`/hub/portal`: its three server cards), the goal p50 < 30 ms;
- the admin user table's first page (50 rows, each user's "3 servers running") and a search,
  the goal p50 < 30 ms;
- /hub/health meanwhile: the goal p99 < 50 ms.

`--before REV` measures the code at git revision REV first, on the same seeded data and the
same stand-ins, in the same run (the baseline side by side).

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.named_scale [--users N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.clients import PASSWORD, Portal
from tests.support.hub import Hub

from . import common
from .hub_scale import ADMIN_PAGE, PAGE_HASH, make_schemas, running, seed, store_url
from .portal_speed import load
from .prober import Prober
from .stats import measured, summary, table
from .stubs import Stubs

ADMIN = f"{ADMIN_PAGE}0000"  # seeded (the hub's configured `admin` is made by its first start)
NAMED = ("second", "third")  # each user's named servers, besides the default one
QUICK = {"users": 4, "requests": 5}
GOAL_P50_MS, GOAL_HEALTH_P99_MS = 30.0, 50.0


def ready_servers(hub: Any) -> int:
    """Servers the hub lists as ready, named ones included (REST API, 200 users a page)."""
    count, offset = 0, 0
    while True:
        page = hub.api("GET", "users", params={"offset": offset, "limit": 200},
                       timeout=120).json()
        count += sum(1 for u in page for s in (u.get("servers") or {}).values() if s["ready"])
        if len(page) < 200:
            return count
        offset += 200


def wait_every_server(hub: Any, expected: int, t0: float, bound: float) -> float:
    while (ready := ready_servers(hub)) < expected:
        if time.monotonic() - t0 > bound:
            raise TimeoutError(f"{ready} of {expected} servers ready after {bound:.0f} s")
        time.sleep(1)
    return round(time.monotonic() - t0, 1)


def figures(args: argparse.Namespace, stubs: Stubs, code: Path | None = None) -> dict[str, Any]:
    """One hub on freshly seeded data (`code`: a tree of the code before, common.code_at)."""
    out: dict[str, Any] = {}
    ports = [port for port, _ in stubs.ports]
    users = [f"stub{port}" for port in ports]
    owner = users[0]  # signs in: its portal page is measured
    data = Path(tempfile.mkdtemp(prefix=f"{common.PREFIX}named-"))
    # Production's intervals, not the tests' (every 5 s): usage sampled and every server
    # polled every 30 s (3,000 servers polled every 5 s were 600 polls a second).
    env = {"DSHUB_BENCH_PREFIX": common.PREFIX, "NAMED_SERVERS_MAX": str(len(NAMED)),
           "LAB_USAGE_INTERVAL": "30s", "USAGE_FLUSH_INTERVAL": "1m",
           "DSHUB_BENCH_POLL_INTERVAL": "30"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    config = common.BENCH_CONFIG if code is None else (
        code / common.BENCH_CONFIG.relative_to(common.ROOT))
    hub = Hub(data, base_url="/", env=env, config=config)
    try:
        if code is None:
            make_schemas(hub.database_url, store_url(hub))
        else:  # the code before may stand at other revisions: its own first start
            with running(hub, 120):
                pass
        sizes = argparse.Namespace(accounts=len(users) + 1, groups=10, audit_days=0,
                                   audit_per_day=0, cull_warning=60.0)
        out["seeded"] = seed(hub.database_url, store_url(hub), sizes, ports, [ADMIN],
                             ("", *NAMED))
        hub.sql("hub", "UPDATE users_info SET password = :hash WHERE username = :name",
                hash=PAGE_HASH, name=owner)
        with running(hub, args.start_bound) as t0:
            out["servers_ready_s"] = wait_every_server(hub, len(users) * (1 + len(NAMED)), t0,
                                                       args.start_bound)
            print(f"{len(users)} users x {1 + len(NAMED)} servers ready in "
                  f"{out['servers_ready_s']} s", flush=True)
            out.update(measure(hub, owner, args.requests))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return out


def measure(hub: Any, owner: str, requests: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # What the measured answers must hold, or their speed means nothing.
    admin, user = Portal(hub, ADMIN, PASSWORD), Portal(hub, owner, PASSWORD)
    page = user.get("portal", htmx=False)
    assert page.status_code == 200, page.text[:300]
    measured(f"server cards on {owner}'s /hub/portal",
             page.text.count('class="card server-card"'), 1 + len(NAMED))
    first = admin.get("portal/admin/user-table?size=50")
    assert first.status_code == 200, first.text[:300]
    rows = [name for name in re.findall(r'<tr data-user="([^"]+)"', first.text)
            if name.startswith("stub")]  # the admins have no server
    measured("rows of the user table's first page saying 3 servers running",
             first.text.count(f"{1 + len(NAMED)} servers running"), len(measured(
                 "users on the user table's first page", rows)))

    host, port, base = common.proxy_address(hub)
    owner_cookie = {"Cookie": common.cookie_header(user)}
    admin_cookie = {"Cookie": common.cookie_header(admin), "HX-Request": "true"}
    pages = {
        "user's /hub/portal": (f"{base}hub/portal", owner_cookie),
        "user table, first page": (f"{base}hub/portal/admin/user-table?size=50", admin_cookie),
        "user table, search": (f"{base}hub/portal/admin/user-table?q={owner}&size=50",
                               admin_cookie),
    }
    with Prober("127.0.0.1", hub.ports["hub"], "/hub/health") as prober:
        for name, (path, headers) in pages.items():
            asyncio.run(load(host, port, path, headers, 5, 1))  # warm-up
            lat, errors, _ = asyncio.run(load(host, port, path, headers, requests, 1))
            measured(f"{name}: answers with status 200", len(lat) - errors, len(lat))
            out[name] = summary(lat)
    out["health"] = prober.summary()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--start-bound", type=float, default=600.0,
                        help="seconds every seeded server may take to be ready")
    parser.add_argument("--before", default="",
                        help="git revision of the code before: measured first, same run")
    args = common.arguments(parser, QUICK)
    results: dict[str, Any] = {"machine": common.machine(), "users": args.users,
                               "servers_per_user": 1 + len(NAMED), "runs": {}}
    with Stubs(args.users, 0) as stubs:
        if args.before:
            label = f"before ({common.short_rev(args.before)})"
            with common.code_at(args.before) as tree:
                results["runs"][label] = figures(args, stubs, tree)
        results["runs"]["this checkout"] = figures(args, stubs)
    rows = []
    for run_name, run in results["runs"].items():
        for name in ("user's /hub/portal", "user table, first page", "user table, search"):
            rows.append([run_name, name, run[name]["n"], run[name]["p50_ms"],
                         run[name]["p99_ms"],
                         "met" if run[name]["p50_ms"] < GOAL_P50_MS else "missed"])
        health = run["health"]
        rows.append([run_name, "/hub/health meanwhile", health["n"], health["p50_ms"],
                     health["p99_ms"],
                     "met" if health["p99_ms"] < GOAL_HEALTH_P99_MS else "missed"])
    print(table(["code", f"{args.users} users x {1 + len(NAMED)} servers", "requests",
                 "p50 ms", "p99 ms", f"goal (p50 < {GOAL_P50_MS:.0f}, health p99 < "
                 f"{GOAL_HEALTH_P99_MS:.0f} ms)"], rows))
    print(f"CPU: {results['machine']['cpu']} x {results['machine']['nproc']}")
    common.save("named_scale", results, args.quick)


if __name__ == "__main__":
    common.run(main)
