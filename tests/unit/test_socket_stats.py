"""Container stats over the engine's Unix socket without docker-py
(portal/docker/socket_stats.py), against a stand-in engine on a socket of its own."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from portal.docker.socket_stats import SocketStats, StatsUnavailable
from portal.docker.types import ContainerMissing


class Engine(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # connections kept, as Docker keeps them
    connections: set[int] = set()
    paths: list[str] = []

    def address_string(self) -> str:  # a Unix socket's peer has no address
        return "unix"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Engine.connections.add(id(self.connection))
        Engine.paths.append(self.path)
        name = self.path.split("/")[3]
        status, body = {"lab-a": (200, {"memory_stats": {"usage": 7}}),
                        "broken": (500, {"message": "engine trouble"})}.get(
            name, (404, {"message": f"No such container: {name}"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ThreadedEngine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "docker.sock")
    Engine.connections, Engine.paths = set(), []
    server = ThreadedEngine(path, Engine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield path
    server.shutdown()
    server.server_close()


def test_stats_come_over_one_kept_connection(engine):
    reader = SocketStats(engine, "1.41", timeout=5)
    for _ in range(3):
        assert reader.stats("lab-a") == {"memory_stats": {"usage": 7}}
    assert len(Engine.connections) == 1
    assert Engine.paths[0] == "/v1.41/containers/lab-a/stats?stream=0&one-shot=1"


def test_a_missing_container_and_an_engine_error_are_told_apart(engine):
    reader = SocketStats(engine, "1.41", timeout=5)
    with pytest.raises(ContainerMissing):
        reader.stats("gone")
    with pytest.raises(StatsUnavailable, match="500"):
        reader.stats("broken")
    assert reader.stats("lab-a")["memory_stats"]["usage"] == 7  # the connection still serves


def test_a_name_cannot_leave_the_containers_path(engine):
    with pytest.raises(ContainerMissing):
        SocketStats(engine, "1.41", timeout=5).stats("../../info")
    assert Engine.paths == ["/v1.41/containers/..%2F..%2Finfo/stats?stream=0&one-shot=1"]


def test_no_engine_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        SocketStats(str(tmp_path / "nothing.sock"), "1.41", timeout=5).stats("lab-a")
