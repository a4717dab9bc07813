"""Owns "does the lab answer through the proxy yet?", bounded, on a client of its own."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlparse

from jupyterhub.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

PROXY_ERRORS = (502, 503, 504, 599)  # the proxy answered for a lab that is not up yet


def loopback_url(public_url: str) -> str:
    """Where the hub itself reaches the proxy's public side: scheme://host:port only."""
    parsed = urlparse(public_url or "http://:8000")
    host = parsed.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"{parsed.scheme or 'http'}://{host}:{parsed.port or 8000}"


def through_proxy(proxy_url: str, lab_url: str) -> tuple[str, dict[str, str]]:
    """The URL and headers that reach `lab_url` through the proxy at `proxy_url`.

    With subdomains (JUPYTERHUB_SUBDOMAIN_HOST) the hub's `user.url` is absolute, on a host the
    hub itself may not resolve (`*.localhost`): connect to the proxy and name the lab's host in
    the Host header, which is what the proxy routes on.
    """
    parsed = urlparse(lab_url)
    url = url_path_join(proxy_url, parsed.path, "api")
    return url, ({"Host": parsed.netloc} if parsed.netloc else {})


async def wait_until_answering(proxy_url: str, lab_url: str, bound: float) -> None:
    """Poll the lab through the proxy until it answers (any status but a proxy error).

    `lab_url` is the hub's `user.url` (a path, or an absolute URL with subdomains). Raises
    TimeoutError after `bound` seconds.
    """
    url, headers = through_proxy(proxy_url, lab_url)
    # A client of our own: the hub's shared one (10 slots) also carries its proxy calls.
    client = AsyncHTTPClient(force_instance=True)
    deadline = time.monotonic() + bound
    try:
        while True:
            try:
                await client.fetch(url, headers=headers, request_timeout=5,
                                   follow_redirects=False, validate_cert=False)
                return
            except HTTPClientError as e:
                if e.code not in PROXY_ERRORS:
                    return  # the lab itself answered (a redirect to sign in counts)
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(url)
            await asyncio.sleep(0.25)
    finally:
        client.close()
