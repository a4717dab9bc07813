"""Loopback stand-ins for labs: one listening port each, a share of them never answer a POST.

They run in a process of their own. Every GET answers 200 at once (the hub checks a new
server with one); a POST to an answering stub gets the notification extension's reply, a POST
to a hanging stub is read and never answered (a lab that is up but stuck).
"""

from __future__ import annotations

import asyncio
import functools
import json
import multiprocessing as mp
import resource
from multiprocessing.connection import Connection as Pipe
from typing import Any


def _answer(status: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


async def _serve(count: int, hang_every: int, stop: Any, out: Pipe) -> None:
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
    out.send(ports)
    await asyncio.get_running_loop().run_in_executor(None, stop.wait)
    out.send(dict(seen))
    for server in servers:
        server.close()


def _main(count: int, hang_every: int, stop: Any, out: Pipe) -> None:
    asyncio.run(_serve(count, hang_every, stop, out))


class Stubs:
    """`with Stubs(1000, hang_every=10) as s:` -> `s.ports` [(port, hangs)], then `s.seen`."""

    def __init__(self, count: int, hang_every: int = 10) -> None:
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_main, args=(count, hang_every, self._stop, send),
                                 daemon=True, name="dshub-stubs")
        self.ports: list[tuple[int, bool]] = []
        self.seen: dict[str, int] = {}

    def __enter__(self) -> Stubs:
        self._proc.start()
        if not self._recv.poll(60):
            raise RuntimeError("the stub process did not start")
        self.ports = self._recv.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._recv.poll(15):
            self.seen = self._recv.recv()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
