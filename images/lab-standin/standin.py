"""Answer like a started single-user server, and nothing more.

JupyterHub counts a server as up once its URL answers HTTP; the tests that use this image ask
the lab only whether it answers (`/user/<name>/api/status` through the proxy). Every request
gets 200 with a small JSON body. SIGTERM ends it at once: as PID 1 in its container, a process
without a handler would ignore it and `docker stop` would wait for its timeout.
"""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Answer(BaseHTTPRequestHandler):
    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"stand_in": True, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _reply

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        sys.stderr.write(f"stand-in: {format % args}\n")


def main() -> None:
    url = urlsplit(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://0.0.0.0:8888/"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer((url.hostname or "0.0.0.0", url.port or 8888), Answer)
    print(f"stand-in lab answering on {url.hostname}:{url.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
