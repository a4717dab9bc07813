"""Named servers at scale (issue 25): 1,000 users, each with its default server and two named
ones running (3,000 servers), and what a user's portal page and the admin user table cost then.

The users are hub users named stub<port> (benchmarks/stubs.py: a loopback stand-in each,
which answers the hub's check of a new server; the benchmark spawner records 127.0.0.1:<port>
for every server of that user, so its three servers share one stand-in). The hub allows two
named servers (NAMED_SERVERS_MAX=2); every server is started through JupyterHub's REST API
(the default one, then the named ones, 10 requests at once) and the run waits until the hub
lists all 3,000 as ready. The first user has a password: its portal page is the one measured.

Then, with the hub's /hub/health probed every 20 ms from a process of its own, p50/p99 over one
keep-alive connection through the proxy, `--requests` each:
- the user's portal page (`/hub/portal`: its three server cards), the goal p50 < 30 ms;
- the admin user table's first page (50 rows, each user's "3 servers running") and a search,
  the goal p50 < 30 ms;
- /hub/health meanwhile: the goal p99 < 50 ms.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.named_scale [--users N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.support.clients import Portal

from . import common
from .portal_speed import load
from .prober import Prober
from .stats import measured, summary, table
from .stubs import Stubs

NAMED = ("second", "third")  # each user's named servers, besides the default one
QUICK = {"users": 4, "requests": 5}
GOAL_P50_MS, GOAL_HEALTH_P99_MS = 30.0, 50.0


def start_every_server(hub: Any, users: list[str], bound: float) -> float:
    """Each user's default server, then its named ones, through the REST API (10 requests at
    once: a start is answered once it is pending 10 s at most, and past 100 pending JupyterHub
    refuses more); seconds until the hub lists every one of them as ready."""
    t0 = time.monotonic()
    paths = [f"users/{u}/server" for u in users] + [
        f"users/{u}/servers/{name}" for name in NAMED for u in users]

    def start(path: str) -> tuple[str, int]:
        # JupyterHub answers 429 past its limit of pending spawns (100): asked again after the
        # time it names.
        while True:
            r = hub.api("POST", path, timeout=120)
            if r.status_code != 429 or time.monotonic() - t0 > bound:
                return path, r.status_code
            time.sleep(float(r.headers.get("Retry-After") or 5))

    with ThreadPoolExecutor(max_workers=10) as pool:
        refused = [(p, code) for p, code in pool.map(start, paths) if code not in (201, 202)]
    assert not refused, f"{len(refused)} starts refused, e.g. {refused[:3]}"
    expected = len(users) * (1 + len(NAMED))
    while (ready := ready_servers(hub)) < expected:
        if time.monotonic() - t0 > bound:
            raise TimeoutError(f"{ready} of {expected} servers ready after {bound:.0f} s")
        time.sleep(1)
    return round(time.monotonic() - t0, 1)


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


def figures(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with (Stubs(args.users, 0) as stubs,
          common.bench_hub({"NAMED_SERVERS_MAX": str(len(NAMED))}) as hub):
        users = [f"stub{port}" for port, _ in stubs.ports]
        owner = users[0]  # signs in: its portal page is measured
        admin = Portal(hub, "admin")
        common.create_accounts(admin, [owner])
        common.create_plain_users(hub, users[1:])
        out["servers_started_s"] = start_every_server(hub, users, args.start_bound)
        print(f"{len(users)} users x {1 + len(NAMED)} servers ready in "
              f"{out['servers_started_s']} s", flush=True)

        # What the measured answers must hold, or their speed means nothing.
        user = Portal(hub, owner)
        page = user.get("portal", htmx=False)
        assert page.status_code == 200, page.text[:300]
        measured(f"server cards on {owner}'s /hub/portal",
                 page.text.count('class="card server-card"'), 1 + len(NAMED))
        first = admin.get("portal/admin/user-table?size=50")
        assert first.status_code == 200, first.text[:300]
        rows = [name for name in re.findall(r'<tr data-user="([^"]+)"', first.text)
                if name != "admin"]  # the admin has no server
        measured("rows of the user table's first page saying 3 servers running",
                 first.text.count(f"{1 + len(NAMED)} servers running"), len(measured(
                     "users on the user table's first page", rows)))

        host, port, base = common.proxy_address(hub)
        owner_cookie = {"Cookie": common.cookie_header(user)}
        admin_cookie = {"Cookie": common.cookie_header(admin), "HX-Request": "true"}
        pages = {
            "user's /hub/portal": (f"{base}hub/portal", owner_cookie),
            "user table, first page": (f"{base}hub/portal/admin/user-table?size=50",
                                       admin_cookie),
            "user table, search": (f"{base}hub/portal/admin/user-table?q={owner}&size=50",
                                   admin_cookie),
        }
        with Prober("127.0.0.1", hub.ports["hub"], "/hub/health") as prober:
            for name, (path, headers) in pages.items():
                asyncio.run(load(host, port, path, headers, 5, 1))  # warm-up
                lat, errors, _ = asyncio.run(load(host, port, path, headers, args.requests, 1))
                measured(f"{name}: answers with status 200", len(lat) - errors, len(lat))
                out[name] = summary(lat)
        out["health"] = prober.summary()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--start-bound", type=float, default=1800.0,
                        help="seconds every server may take to be ready")
    args = common.arguments(parser, QUICK)
    results: dict[str, Any] = {"machine": common.machine(), "users": args.users,
                               "servers_per_user": 1 + len(NAMED), **figures(args)}
    rows = [[name, results[name]["n"], results[name]["p50_ms"], results[name]["p99_ms"],
             "met" if results[name]["p50_ms"] < GOAL_P50_MS else "missed"]
            for name in ("user's /hub/portal", "user table, first page", "user table, search")]
    health = results["health"]
    rows.append(["/hub/health meanwhile", health["n"], health["p50_ms"], health["p99_ms"],
                 "met" if health["p99_ms"] < GOAL_HEALTH_P99_MS else "missed"])
    print(table([f"{args.users} users x {1 + len(NAMED)} servers", "requests", "p50 ms",
                 "p99 ms", f"goal (p50 < {GOAL_P50_MS:.0f}, health p99 < "
                 f"{GOAL_HEALTH_P99_MS:.0f} ms)"], rows))
    print(f"CPU: {results['machine']['cpu']} x {results['machine']['nproc']}")
    common.save("named_scale", results, args.quick)


if __name__ == "__main__":
    common.run(main)
