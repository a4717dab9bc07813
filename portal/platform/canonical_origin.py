"""Owns sending a browser that reached the hub under another of its names to its one origin.

With labs on origins of their own (JUPYTERHUB_SUBDOMAIN_HOST), the hub's cookies, the XSRF one
included, belong to the configured host name. A page opened as http://127.0.0.1:8000 while the
hub is http://localhost:8000 (`make dev`) got cookies for the wrong name, and every form on it
then failed with "XSRF cookie does not match". A page request that reaches the public port
under another name is redirected to the same path on the configured origin instead.

Only GET and HEAD of pages: API calls and the health check answer under any name (the labs, the
proxy and the image's health check reach the hub by loopback or container names, on the hub's
own port, which this never matches anyway).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from jupyterhub.utils import url_path_join
from tornado.httputil import HTTPServerRequest, split_host_and_port
from tornado.routing import Matcher
from tornado.web import RequestHandler


class StrayHostMatcher(Matcher):
    """Matches a page request whose Host names another host on the public port."""

    def __init__(self, origin: str, base_url: str) -> None:
        parts = urlsplit(origin)
        self.host = (parts.hostname or "").lower()
        self.port = parts.port  # None: the scheme's default, as browsers then send no port
        self.exempt = (url_path_join(base_url, "hub/api/"), url_path_join(base_url, "hub/health"))

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        if request.method not in ("GET", "HEAD") or request.path.startswith(self.exempt):
            return None
        host, port = split_host_and_port(request.host.lower())
        if host == self.host or host.endswith(f".{self.host}") or port != self.port:
            return None  # the hub's own name, a lab's origin, or not the public port
        return {}


class ToConfiguredOrigin(RequestHandler):
    """302 to the same path and query on the configured origin."""

    def initialize(self, origin: str) -> None:
        self.origin = origin.rstrip("/")

    def get(self) -> None:
        self.redirect(f"{self.origin}{self.request.uri}")

    head = get


def redirect_rule(origin: str, base_url: str) -> tuple[Matcher, type, dict[str, str]]:
    """(matcher, handler, its arguments): the route to put ahead of the hub's own."""
    return StrayHostMatcher(origin, base_url), ToConfiguredOrigin, {"origin": origin}
