"""The floods of benchmarks that run in a process of their own (benchmarks/child.py), so that
their GIL never delays the prober, and that import nothing heavy (a child imports this module
only): volume_modal's modal openings, signin_abuse's wrong passwords."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from .http import Connection
from .prober import fire_every


async def modal_flood(port: int, path: str, headers: dict[str, str], rate: float, *,
                      stop: asyncio.Event, report: Callable[[Any], None]) -> list[list[Any]]:
    """volume_modal's flood (a child process): GET `path` `rate` times a second, each on a
    connection of its own, never waiting, until `stop`; [[seconds, status, bad], ...]."""
    done: list[tuple[float, int, bool]] = []
    origin = time.perf_counter()

    async def one() -> None:
        conn = Connection("127.0.0.1", port, keep_alive=False)
        try:
            r = await asyncio.wait_for(conn.request("GET", path, headers), 60)
            done.append((r.seconds, r.status, b"cannot be reached" in r.body))
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            done.append((60.0, 0, True))
        finally:
            await conn.close()

    report("ready")
    await fire_every(1 / rate, one, stop, 61, origin)
    return [list(answer) for answer in done]


WRONG = "not-the-password"  # signin_abuse's guess


def _requests(kind: str, base: str, session: dict[str, str]) -> tuple[str, str, dict, bytes]:
    """The request one client repeats: method, path, headers, body."""
    cookie = "; ".join(f"{k}={v}" for k, v in session.items())
    if kind == "login":
        body = urlencode({"username": "admin", "password": WRONG,
                          "_xsrf": session.get("_xsrf", "")}).encode()
        return "POST", f"{base}hub/login", {
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, body
    json_headers = {"Content-Type": "application/json"}
    if kind == "token_api":
        body = json.dumps({"auth": {"username": "admin", "password": WRONG}}).encode()
        return "POST", f"{base}hub/api/users/admin/tokens", json_headers, body
    return "POST", f"{base}hub/portal/api/sudo", {
        **json_headers, "Cookie": cookie, "X-XSRFToken": session.get("_xsrf", "")}, \
        json.dumps({"password": WRONG}).encode()


async def _client(host: str, port: int, base: str, source: str, kind: str,
                  session: dict[str, str], until: float, counts: Counter) -> None:
    conn = Connection(host, port, local_addr=(source, 0))
    try:
        if kind == "login":  # the form's own _xsrf cookie
            page = await conn.request("GET", f"{base}hub/login")
            cookie = page.headers.get("set-cookie", "").split(";", 1)[0]
            session = dict([cookie.split("=", 1)]) if "=" in cookie else {}
        method, path, headers, body = _requests(kind, base, session)
        while time.monotonic() < until:
            r = await conn.request(method, path, headers, body)
            counts[r.status] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        counts[type(e).__name__] += 1
    finally:
        await conn.close()


async def signin_flood(host: str, port: int, base: str, kind: str,
                       sessions: list[dict[str, str]], seconds: float, *, stop: asyncio.Event,
                       report: Callable[[Any], None]) -> dict[str, int]:
    """signin_abuse's flood of one `kind` (a child process): one client a session, each from
    its own loopback address, for `seconds`; the answers counted by status."""
    counts: Counter = Counter()
    until = time.monotonic() + seconds
    await asyncio.gather(*(_client(host, port, base, f"127.0.0.{11 + i}", kind, session,
                                   until, counts)
                           for i, session in enumerate(sessions)))
    return {str(k): v for k, v in counts.items()}
