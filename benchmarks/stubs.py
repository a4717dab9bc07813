"""Loopback stand-ins for labs: one listening port each, a share of them never answer a POST.

They run in a process of their own (benchmarks/child.py). Every GET answers 200 at once (the
hub checks a new server with one); a POST to an answering stub gets the notification
extension's reply, a POST to a hanging stub is read and never answered (a lab that is up but
stuck).
"""

from __future__ import annotations

import asyncio
import functools
import json
import resource
from collections.abc import Callable
from typing import Any

from .child import Child


def _answer(status: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


async def serve(count: int, hang_every: int, *, stop: asyncio.Event,
                report: Callable[[Any], None]) -> dict[str, int]:
    """The stand-ins' process (benchmarks/child.py): reports [[port, hangs], ...], serves
    until `stop`; what they were asked."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    seen = {"get": 0, "post_answered": 0, "post_hung": 0}
    forever = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     hang: bool) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if not head.startswith("POST"):
                    seen["get"] += 1
                    writer.write(_answer("200 OK", {"version": "stub"}))
                elif hang:
                    seen["post_hung"] += 1
                    await forever  # never answers
                else:
                    seen["post_answered"] += 1
                    writer.write(_answer("200 OK", {"success": True, "notification_id": "n1"}))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                asyncio.CancelledError):
            pass
        finally:
            writer.close()

    servers, ports = [], []
    for i in range(count):
        hang = hang_every > 0 and i % hang_every == 0  # 0: none hang
        server = await asyncio.start_server(
            functools.partial(handle, hang=hang), "127.0.0.1", 0, backlog=64)
        servers.append(server)
        ports.append((server.sockets[0].getsockname()[1], hang))
    report(ports)
    await stop.wait()
    for server in servers:
        server.close()
    return dict(seen)


class Stubs:
    """`with Stubs(1000, hang_every=10) as s:` -> `s.ports` [(port, hangs)], then `s.seen`."""

    def __init__(self, count: int, hang_every: int = 10) -> None:
        self._child = Child("benchmarks.stubs:serve", [count, hang_every], "stubs")
        self.ports: list[tuple[int, bool]] = []
        self.seen: dict[str, int] = {}

    def __enter__(self) -> Stubs:
        self._child.start()
        self.ports = [(port, hangs) for port, hangs in self._child.receive(60)]
        return self

    def __exit__(self, *exc: object) -> None:
        self.seen = self._child.finish(15) or {}
