"""Admin at scale: the user table with 5,000 users (500 of them running stand-ins), and what
open portal pages cost with pushed updates against the polling they replaced.

1. The table's first page and a search, p50/p99 over keep-alive connections through the proxy,
   with the hub's /hub/health probed every 20 ms meanwhile (p99 goal < 50 ms, table p50 < 30 ms).
2. `--pages` open portal pages for `--window` seconds, twice: each holding the event stream and
   checking its card once a minute (today), and each polling its card every 10 s (before). Hub
   CPU seconds and requests per minute (a stream counts once, when it opens); first a window of
   the same length with no page open (the hub's own background work).
3. The hub's resident memory with every user in the database and the streams open.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.admin_scale [--before REV] [--quick]

(--before REV: the same scenario on the code at REV first, on a hub of its own, in the same
session, so the two are compared side by side.)
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from tests.support.clients import Portal

from .broadcast_fanout import spawn_stubs
from .common import (
    arguments,
    bench_hub,
    code_at,
    cookie_header,
    create_accounts,
    create_plain_users,
    machine,
    proxy_address,
    rss_kib,
    run,
    save,
    short_rev,
)
from .portal_speed import load
from .prober import Prober
from .stats import measured, summary, table
from .stubs import Stubs

QUICK = {"users": 40, "running": 4, "pages": 3, "window": 3.0, "requests": 10}
READER = "reader"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc, clock ticks of 1/100 s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


async def hold_streams(url: str, cookie: str, pages: int, window: float) -> int:
    """`pages` event streams open for `window` seconds; the number that opened (got data)."""
    opened = 0
    client = AsyncHTTPClient(force_instance=True, max_clients=pages + 5)

    def on_chunk(chunk: bytes) -> None:
        nonlocal opened
        if chunk.startswith(b": connected"):
            opened += 1

    requests = [client.fetch(HTTPRequest(url, headers={"Cookie": cookie},
                                         streaming_callback=on_chunk, request_timeout=window),
                             raise_error=False) for _ in range(pages)]
    # Each stream ends at its request timeout: that is how the window closes.
    await asyncio.gather(*requests, return_exceptions=True)
    client.close()
    return opened


async def poll_cards(url: str, cookie: str, pages: int, window: float, every: float) -> int:
    """What each open page did before: its card every `every` seconds; requests made."""
    client = AsyncHTTPClient(force_instance=True, max_clients=pages + 5)
    made = 0
    deadline = time.monotonic() + window

    async def page(offset: float) -> None:
        # Every page stops at the deadline: a page whose next check falls after it does not
        # stretch the window (it did, up to `every` seconds, before 2026-12-01).
        nonlocal made
        if offset >= window:
            return
        await asyncio.sleep(offset)
        while time.monotonic() < deadline:
            await client.fetch(url, headers={"Cookie": cookie, "HX-Request": "true"},
                               raise_error=False)
            made += 1
            await asyncio.sleep(max(0.0, min(every, deadline - time.monotonic())))

    await asyncio.gather(*(page(i * every / pages) for i in range(pages)))
    client.close()
    return made


def scenario(args: argparse.Namespace, code: Path | None = None) -> dict[str, Any]:
    """Everything on one hub (`code`: a tree of the code before, see common.code_at)."""
    out: dict[str, Any] = {}
    # Stand-ins answer every GET (the hub checks a new server with one); none are silent here.
    with Stubs(args.running, 0) as stubs, bench_hub(code=code) as hub:
        admin = Portal(hub, "admin")
        stub_names = [f"stub{port}" for port, _ in stubs.ports]
        create_accounts(admin, [READER])
        create_plain_users(hub, stub_names + [f"user{i:05d}" for i in
                                              range(args.users - args.running - 2)])
        spawn_stubs(hub, stub_names)
        host, port, base = proxy_address(hub)
        headers = {"Cookie": cookie_header(admin), "HX-Request": "true"}
        rows = []
        with Prober("127.0.0.1", hub.ports["hub"], "/hub/health") as prober:
            for name, query in (("first page", "size=50"), ("search", "q=user0042&size=50")):
                path = f"{base}hub/portal/admin/user-table?{query}"
                asyncio.run(load(host, port, path, headers, 5, 1))  # warm-up
                lat, errors, _ = asyncio.run(load(host, port, path, headers, args.requests, 1))
                measured(f"table requests ({name})", lat)
                out[name] = {**summary(lat), "errors": errors}
                rows.append([name, out[name]["p50_ms"], out[name]["p99_ms"], errors])
        out["health_during_table"] = prober.summary()
        print(table(["table query", "p50 ms", "p99 ms", "errors"], rows))
        print(f"/hub/health meanwhile: p99 {out['health_during_table']['p99_ms']} ms")

        reader = Portal(hub, READER)
        cookie = cookie_header(reader)
        pid = hub.proc.pid
        scenarios = []
        card = f"http://{host}:{port}{base}hub/portal/users/{READER}/card"

        async def pushed() -> tuple[int, int]:
            # Today's page: one event stream, and its card's own check once a minute.
            return await asyncio.gather(
                hold_streams(f"http://{host}:{port}{base}hub/portal/events", cookie,
                             args.pages, args.window),
                poll_cards(card, cookie, args.pages, args.window, 60.0))

        # The hub's own background work (usage sampling, polls of 500 servers, GC) with no page
        # open, in a window of the same length: what neither kind of page is to blame for.
        def cpu(t0: float, c0: float, requests: int) -> dict[str, float]:
            # Windows differ a little (a request in flight at the deadline): CPU per window.
            seconds = time.monotonic() - t0
            used = cpu_seconds(pid) - c0
            return {"cpu_s": round(used, 2), "seconds": round(seconds, 1),
                    "cpu_s_per_window": round(used / seconds * args.window, 2),
                    "requests_per_min": round(requests / seconds * 60, 1)}

        t0, c0 = time.monotonic(), cpu_seconds(pid)
        time.sleep(args.window)
        out["idle"] = cpu(t0, c0, 0)
        t0, c0 = time.monotonic(), cpu_seconds(pid)
        opened, checks = asyncio.run(pushed())
        measured("event streams opened", opened, args.pages)
        out["pushed"] = {**cpu(t0, c0, opened + checks), "rss_kib_with_streams": rss_kib(pid)}
        t0, c0 = time.monotonic(), cpu_seconds(pid)
        made = asyncio.run(poll_cards(card, cookie, args.pages, args.window, 10.0))
        measured("card polls made", made)
        out["polling"] = cpu(t0, c0, made)
        for name in ("idle", "pushed", "polling"):
            scenarios.append([name, out[name]["seconds"], out[name]["cpu_s"],
                              out[name]["cpu_s_per_window"], out[name]["requests_per_min"]])
        print(table([f"{args.pages} open pages, {args.window:g} s", "window s", "hub CPU s",
                     f"hub CPU s per {args.window:g} s", "requests/min"], scenarios))
        print(f"hub RSS with {args.users} users and {args.pages} streams: "
              f"{out['pushed']['rss_kib_with_streams']['VmRSS'] / 1024:.0f} MiB")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--running", type=int, default=500, help="running stand-ins")
    parser.add_argument("--pages", type=int, default=50, help="open portal pages")
    parser.add_argument("--window", type=float, default=60.0, help="seconds per page scenario")
    parser.add_argument("--requests", type=int, default=200, help="table requests per query")
    parser.add_argument("--before", default="",
                        help="git revision of the code before: run it first, same session")
    args = arguments(parser, QUICK)
    out: dict[str, Any] = {"machine": machine(), "users": args.users, "running": args.running,
                           "runs": {}}
    if args.before:
        print(f"--- before ({short_rev(args.before)}) ---")
        with code_at(args.before) as tree:
            out["runs"][f"before ({short_rev(args.before)})"] = scenario(args, tree)
        print("--- after (this checkout) ---")
    out["runs"]["after (this checkout)"] = scenario(args)
    save("admin_scale", out, quick=args.quick)


if __name__ == "__main__":
    run(main)
