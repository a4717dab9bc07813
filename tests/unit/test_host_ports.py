"""Ports of labs on the host network: never the same one for two servers of a hub."""

from __future__ import annotations

import socket

import pytest

from portal.lab import host_ports
from tests.support.hub import free_port

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


@pytest.fixture
def ports() -> host_ports.HostPorts:
    return host_ports.HostPorts()  # one hub's table


def two_free_ports() -> tuple[int, int]:
    """Two ports in a row that nothing holds. A port of this process's block may be held by
    something outside it (a lab another session left on the host network): free_port() skips
    it, so the pair is looked for further on (it failed once under load when it was not)."""
    first = free_port()
    for _ in range(50):
        second = free_port()
        if second == first + 1:
            return first, second
        first = second
    raise AssertionError("no two free loopback ports in a row in 50 tries")


def test_two_starts_in_one_range_get_different_ports_and_a_third_is_refused(ports):
    first, last = two_free_ports()
    a = ports.reserve("a/", first, last)
    b = ports.reserve("b/", first, last)
    assert {a, b} == {first, last}
    with pytest.raises(RuntimeError, match=f"no free loopback port in {first}-{last}"):
        ports.reserve("c/", first, last)
    ports.release("a/")
    assert ports.reserve("c/", first, last) == a


def test_a_port_something_listens_on_is_skipped(ports):
    first, last = two_free_ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first))
        taken.listen()
        assert ports.reserve("u/", first, last) == last
        with pytest.raises(RuntimeError):
            ports.reserve("v/", first, last)


def test_a_running_server_found_at_start_keeps_its_port_and_a_new_start_moves_on(ports):
    first, last = two_free_ports()
    ports.keep("running/", first)
    assert ports.reserve("new/", first, last) == last
    # The same server starting again gives its old port back first.
    assert ports.reserve("running/", first, last) == first


def test_kernel_chosen_ports_are_reserved_too(ports):
    picked = {ports.reserve(f"u{i}/") for i in range(20)}
    assert len(picked) == 20 and all(p > 0 for p in picked)


def test_each_hub_has_its_own_table_and_the_spawner_uses_the_one_it_is_given(ports):
    from tests.unit.test_spawner_names import make_spawner

    given = make_spawner("ann", host_ports=lambda: ports)
    assert given.port_table is ports
    alone = make_spawner("bob")  # plain use: a table of its own
    assert alone.port_table is alone.port_table and alone.port_table is not ports
    first, last = two_free_ports()
    port = ports.reserve("x/", first, last)
    assert host_ports.HostPorts().reserve("y/", port, port) == port  # another hub's table
