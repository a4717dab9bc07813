"""Portal speed: /hub/portal and the server-card fragment against the hub's own /hub/home.

A signed-in (non-admin) user, 50 users in the hub, through the proxy like a browser, at
concurrency 1 and 20; the three endpoints take turns in rounds so that noise on the shared
machine hits them alike. Measured with the user's server stopped and again while it runs.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.portal_speed [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from tests.support.clients import Portal

from .common import (
    arguments,
    bench_hub,
    cookie_header,
    create_accounts,
    create_plain_users,
    machine,
    proxy_address,
    run,
    save,
    settle,
    start_servers,
)
from .http import Connection
from .stats import measured, summary, table

USER = "reader"
QUICK = {"rounds": 1, "n1": 5, "n20": 20}


async def load(host: str, port: int, path: str, headers: dict[str, str], requests: int,
               concurrency: int) -> tuple[list[float], int, float]:
    """`requests` GETs over `concurrency` keep-alive connections: (latencies ms, errors, s);
    an answer other than 200 counts as an error, its latency is kept."""
    latencies: list[float] = []
    errors = 0
    left = requests

    async def worker() -> None:
        nonlocal left, errors
        conn = Connection(host, port)
        try:
            while left > 0:
                left -= 1
                r = await conn.request("GET", path, headers)
                latencies.append(r.seconds * 1000)
                if r.status != 200:
                    errors += 1
        finally:
            await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - t0


def measure(hub: Any, portal: Portal, rounds: int, per_round: dict[int, int]) -> dict[str, Any]:
    host, port, base = proxy_address(hub)
    cookies = {"Cookie": cookie_header(portal)}
    endpoints = {
        "/hub/home": (f"{base}hub/home", cookies),
        "/hub/portal": (f"{base}hub/portal", cookies),
        "card fragment": (f"{base}hub/portal/users/{USER}/card",
                          {**cookies, "HX-Request": "true"}),
    }
    for path, headers in endpoints.values():  # warm-up: templates compiled, connections made
        asyncio.run(load(host, port, path, headers, 20, 2))
    out: dict[str, Any] = {}
    for concurrency, n in per_round.items():
        lat: dict[str, list[float]] = {k: [] for k in endpoints}
        errors = dict.fromkeys(endpoints, 0)
        busy = dict.fromkeys(endpoints, 0.0)
        for _ in range(rounds):
            for name, (path, headers) in endpoints.items():
                got, err, seconds = asyncio.run(load(host, port, path, headers, n, concurrency))
                lat[name] += got
                errors[name] += err
                busy[name] += seconds
        for name in endpoints:
            key = f"{name} @ c={concurrency}"
            # A moved or refused endpoint answers fast; its figures would mean nothing.
            measured(f"{key}: answers with status 200", len(lat[name]) - errors[name],
                     len(lat[name]))
            out[key] = {
                **summary(lat[name], key), "errors": errors[name],
                "req_per_s": round(len(lat[name]) / busy[name], 1),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n1", type=int, default=100, help="requests per round at c=1")
    parser.add_argument("--n20", type=int, default=400, help="requests per round at c=20")
    args = arguments(parser, QUICK)
    per_round = {1: args.n1, 20: args.n20}
    results: dict[str, Any] = {"machine": machine(), "users": 50, "phases": {}}
    with bench_hub() as hub:
        admin = Portal(hub, "admin")
        create_accounts(admin, [USER])
        create_plain_users(hub, [f"user{i:02d}" for i in range(48)])  # + admin + reader = 50
        assert len(hub.api("GET", "users").json()) == 50
        portal = Portal(hub, USER)
        results["phases"]["server stopped"] = measure(hub, portal, args.rounds, per_round)
        start_servers(hub, [USER])
        settle(args, 3)  # the lab's start-up CPU is not the portal's
        results["phases"]["server running"] = measure(hub, portal, args.rounds, per_round)

    for phase, rows in results["phases"].items():
        print(f"\n{phase} (50 users, signed in as a non-admin, through the proxy)")
        print(table(["endpoint", "requests", "p50 ms", "p99 ms", "max ms", "req/s", "errors"],
                    [[k, v["n"], v["p50_ms"], v["p99_ms"], v["max_ms"], v["req_per_s"],
                      v["errors"]] for k, v in rows.items()]))
    save("portal_speed", results, args.quick)


if __name__ == "__main__":
    run(main)
