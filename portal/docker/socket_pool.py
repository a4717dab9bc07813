"""Owns reusing connections to a Docker engine's Unix socket across calls.

docker-py's Unix socket adapter keys its connection pools by the whole request URL and keeps
the 25 most recent: a call about another container (`/containers/<id>/stats`) gets a new pool,
so a new connection, and closes the oldest one. The usage sampler asks about each running lab
in turn, so with more than 25 labs every call connected and closed a socket (25 calls a second
at 2,000 labs, the largest share of an idle hub's CPU: docs/benchmarks.md, section 15).
`share_socket_pool` makes every URL of one client use one pool, sized for the threads that
call it at once. TCP engines (a Swarm's nodes) go through requests' own pools, keyed by host.
"""

from __future__ import annotations

from typing import Any

from docker.transport import UnixHTTPAdapter

_MARK = "_dshub_one_pool"
POOL_KEY = "http+docker://localhost"  # the host name is not used on a Unix socket


def unix_socket_path(api: Any) -> str | None:
    """The engine socket `api` (a docker.APIClient) talks to; None for other transports."""
    adapter = getattr(api, "adapters", {}).get("http+docker://")
    return adapter.socket_path if isinstance(adapter, UnixHTTPAdapter) else None


def share_socket_pool(api: Any, connections: int) -> None:
    """One pool of up to `connections` kept connections for every call of `api` (a
    docker.APIClient) over its Unix socket; idempotent, nothing for other transports."""
    adapter = getattr(api, "adapters", {}).get("http+docker://")
    if not isinstance(adapter, UnixHTTPAdapter) or getattr(adapter, _MARK, False):
        return
    adapter.max_pool_size = max(adapter.max_pool_size, connections)
    by_url = adapter.get_connection

    def get_connection(url: str, proxies: Any = None) -> Any:
        return by_url(POOL_KEY, proxies)

    adapter.get_connection = get_connection
    setattr(adapter, _MARK, True)
