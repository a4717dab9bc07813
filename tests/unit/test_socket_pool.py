"""Calls about different containers share one connection pool on the Docker socket
(portal/docker/socket_pool.py): docker-py keyed its pools by the whole URL."""

from __future__ import annotations

import docker

from portal.docker.socket_pool import share_socket_pool


def test_every_url_of_a_client_uses_one_pool_sized_for_its_threads():
    api = docker.APIClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    adapter = api.adapters["http+docker://"]
    share_socket_pool(api, 18)
    share_socket_pool(api, 18)  # idempotent
    pools = {id(adapter.get_connection(api._url("/containers/{0}/stats", name)))
             for name in ("lab-a", "lab-b", "lab-c")}
    assert len(pools) == 1 and len(adapter.pools) == 1
    assert adapter.get_connection(api._url("/info")).pool.maxsize == 18


def test_without_it_each_url_gets_a_pool_of_its_own():
    api = docker.APIClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    adapter = api.adapters["http+docker://"]
    for name in ("lab-a", "lab-b", "lab-c"):
        adapter.get_connection(api._url("/containers/{0}/stats", name))
    assert len(adapter.pools) == 3  # what the shim is for: it fails once docker-py changes


def test_tcp_engines_are_left_alone():
    api = docker.APIClient(base_url="tcp://127.0.0.1:1", version="1.41")
    share_socket_pool(api, 18)
    assert "http+docker://" not in api.adapters
