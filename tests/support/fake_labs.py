"""Labs that answer, for the in-process hub's FakeEngine: while a container the engine started
runs, something answers HTTP on its loopback port, as the lab in it would. With them a start
completes (the hub sees its server answer and marks it ready) instead of being given up after
the hub's http_timeout; without them (the default) no lab ever answers, which tests of a start
that never comes up rely on.

What answers is no JupyterLab: any request gets 200 and an empty JSON object, enough for the
hub's readiness check. Whatever needs a real lab (its OAuth, the notifications extension, the
proxy) is tested on the real engine (tests/integration).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class _Answer(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the hub's log says what it asked."""


def lab_port(environment: Any) -> int | None:
    """The loopback port the hub told the lab to serve on (JUPYTERHUB_SERVICE_URL), if any."""
    if isinstance(environment, dict):
        url = environment.get("JUPYTERHUB_SERVICE_URL")
    else:
        url = next((item.split("=", 1)[1] for item in environment or ()
                    if item.startswith("JUPYTERHUB_SERVICE_URL=")), None)
    return urlsplit(url).port if url else None


class AnsweringLabs:
    """container name -> the server answering on its port, while the container runs."""

    def __init__(self) -> None:
        self._servers: dict[str, ThreadingHTTPServer] = {}

    def open(self, name: str, port: int) -> None:
        self.close(name)
        server = ThreadingHTTPServer(("127.0.0.1", port), _Answer)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         name=f"fake-lab-{name}", daemon=True).start()
        self._servers[name] = server

    def close(self, name: str) -> None:
        server = self._servers.pop(name, None)
        if server is not None:
            server.shutdown()
            server.server_close()

    def close_all(self) -> None:
        for name in list(self._servers):
            self.close(name)
