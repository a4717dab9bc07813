"""Owns the one Docker call the hub makes per running lab and pass: a container's stats, read
over the engine's Unix socket with the standard library.

Through docker-py (requests, urllib3) one stats call cost the hub 1.3 ms of CPU; with 2,000
labs the usage sampler makes 25 a second without end, two thirds of an idle hub's CPU
(docs/benchmarks.md, section 15). The same GET on a kept HTTP/1.1 connection costs 0.17 ms.
One connection per calling thread (the DockerService's pool), opened again once if the engine
closed it. TCP engines (a Swarm's nodes) keep going through docker-py.
"""

from __future__ import annotations

import json
import socket
import threading
from http.client import HTTPConnection, HTTPException
from typing import Any
from urllib.parse import quote

from .types import ContainerMissing


class StatsUnavailable(OSError):
    """The engine answered a stats request with an error other than "no such container"."""


class _SocketConnection(HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class SocketStats:
    """`stats(name)`: one sample of a container's counters (Docker's `one-shot` stats)."""

    def __init__(self, socket_path: str, api_version: str, timeout: float) -> None:
        self.socket_path, self.api_version, self.timeout = socket_path, api_version, timeout
        self._local = threading.local()

    def stats(self, name: str) -> dict[str, Any]:
        path = (f"/v{self.api_version}/containers/{quote(name, safe='')}/stats"
                "?stream=0&one-shot=1")
        try:
            status, body = self._get(path)
        except (HTTPException, ConnectionError):
            self._local.connection = None  # the engine closed a kept connection: once more
            status, body = self._get(path)
        if status == 404:
            raise ContainerMissing(name)
        if status != 200:
            raise StatsUnavailable(f"Docker answered {status} to stats of {name}: "
                                   f"{body[:200].decode(errors='replace')}")
        return json.loads(body)

    def _get(self, path: str) -> tuple[int, bytes]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = _SocketConnection(self.socket_path,
                                                                    self.timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        except BaseException:
            connection.close()
            self._local.connection = None
            raise
