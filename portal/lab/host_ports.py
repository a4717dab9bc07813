"""Owns the loopback ports of labs on the host network (DOCKER_NETWORK_NAME=host).

A port found free now stays free only until the lab's container binds it, seconds later. In
between, another start could be handed the same port: the second lab then cannot listen and
exits, while the hub, checking the port, finds the first lab and takes it for the second. So
this hub reserves every port it gives out until that server stops, and a hub that shares the
machine with other hubs (the test workers) can be given a range of its own.
"""

from __future__ import annotations

import random
import socket
from typing import Any

from jupyterhub.utils import random_port
from traitlets import HasTraits, Int, Tuple

_ATTEMPTS = 200
_reserved: dict[int, str] = {}  # port -> the server holding it ("user/name"); this process


def bindable(port: int) -> bool:
    """Nothing listens on, or holds, this loopback port now."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def reserve(owner: str, first: int = 0, last: int = 0) -> int:
    """A port for `owner` that no other server of this hub holds and nothing listens on:
    from [first, last] when given, else one the kernel picks."""
    release(owner)
    for _ in range(_ATTEMPTS):
        port = random.randint(first, last) if first else random_port()
        if port not in _reserved and bindable(port):
            _reserved[port] = owner
            return port
    where = f"in {first}-{last}" if first else "from the kernel"
    raise RuntimeError(f"no free loopback port {where} after {_ATTEMPTS} tries")


def keep(owner: str, port: int) -> None:
    """A server already running on `port` (state loaded at the hub's start): hold it."""
    _reserved[port] = owner


def release(owner: str) -> None:
    for port in [p for p, o in _reserved.items() if o == owner]:
        del _reserved[port]


class HostNetworkPort(HasTraits):
    """Mixed into PortalSpawner: each server on the host network listens on a port of its own,
    kept in the server's state so a hub restart finds it again."""

    host_port = Int(0, help="Loopback port of this server in host-network mode (state).")

    host_port_range = Tuple(
        Int(), Int(), default_value=(0, 0),
        help="Ports [first, last] for servers on the host network; (0, 0): any free port the "
        "kernel picks. Hubs sharing one machine (test workers) each take a range of their own.",
    ).tag(config=True)

    @property
    def host_network(self) -> bool:
        return self.network_name == "host"  # type: ignore[attr-defined]

    @property
    def _port_owner(self) -> str:
        return f"{self.user.name}/{self.name}"  # type: ignore[attr-defined]

    def take_host_port(self) -> None:
        """Before a start on the host network: this server's own port, reached on loopback."""
        self.host_port = reserve(self._port_owner, *self.host_port_range)
        self.port = self.host_port
        self.ip = "127.0.0.1"
        self.use_internal_ip = True

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()  # type: ignore[misc]
        if self.host_network and self.host_port:
            state["host_port"] = self.host_port
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)  # type: ignore[misc]
        if state.get("host_port"):
            self.host_port = self.port = int(state["host_port"])
            keep(self._port_owner, self.host_port)

    def clear_state(self) -> None:
        super().clear_state()  # type: ignore[misc]
        if self.host_port:
            release(self._port_owner)
        self.host_port = 0
