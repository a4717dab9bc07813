"""Ports of labs on the host network: never the same one for two servers of a hub."""

from __future__ import annotations

import socket

import pytest

from portal.lab import host_ports
from tests.support.hub import free_port


@pytest.fixture(autouse=True)
def _no_reservations(monkeypatch):
    monkeypatch.setattr(host_ports, "_reserved", {})


def two_free_ports() -> tuple[int, int]:
    first = free_port()
    second = free_port()
    assert second == first + 1, "the test needs two ports in a row"
    return first, second


def test_two_starts_in_one_range_get_different_ports_and_a_third_is_refused():
    first, last = two_free_ports()
    a = host_ports.reserve("a/", first, last)
    b = host_ports.reserve("b/", first, last)
    assert {a, b} == {first, last}
    with pytest.raises(RuntimeError, match=f"no free loopback port in {first}-{last}"):
        host_ports.reserve("c/", first, last)
    host_ports.release("a/")
    assert host_ports.reserve("c/", first, last) == a


def test_a_port_something_listens_on_is_skipped():
    first, last = two_free_ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first))
        taken.listen()
        assert host_ports.reserve("u/", first, last) == last
        with pytest.raises(RuntimeError):
            host_ports.reserve("v/", first, last)


def test_a_running_server_found_at_start_keeps_its_port_and_a_new_start_moves_on():
    first, last = two_free_ports()
    host_ports.keep("running/", first)
    assert host_ports.reserve("new/", first, last) == last
    # The same server starting again gives its old port back first.
    assert host_ports.reserve("running/", first, last) == first


def test_kernel_chosen_ports_are_reserved_too():
    picked = {host_ports.reserve(f"u{i}/") for i in range(20)}
    assert len(picked) == 20 and all(p > 0 for p in picked)
