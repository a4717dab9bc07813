"""Owns the loopback ports of labs on the host network (DOCKER_NETWORK_NAME=host).

A port found free now stays free only until the lab's container binds it, seconds later. In
between, another start could be handed the same port: the second lab then cannot listen and
exits, while the hub, checking the port, finds the first lab and takes it for the second. So
a hub reserves every port it gives out until that server stops (one `HostPorts` per hub, which
portal.setup(c) hands every spawner), and a hub that shares the machine with other hubs (the
test workers) can be given a range of its own.
"""

from __future__ import annotations

import random
import socket

from jupyterhub.utils import random_port
from traitlets import Int, Tuple

_ATTEMPTS = 200
# The spawner's settings (state and configuration), assigned in PortalSpawner's body.
HOST_PORT = Int(0, help="Loopback port of this server in host-network mode (state).")
PORT_RANGE = Tuple(
    Int(), Int(), default_value=(0, 0),
    help="Ports [first, last] for servers on the host network; (0, 0): any free port the "
    "kernel picks. Hubs sharing one machine (test workers) each take a range of their own.",
).tag(config=True)


def bindable(port: int) -> bool:
    """Nothing listens on, or holds, this loopback port now."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class HostPorts:
    """The ports one hub's servers hold: port -> the server holding it ("user/name")."""

    def __init__(self) -> None:
        self._held: dict[int, str] = {}

    def reserve(self, owner: str, first: int = 0, last: int = 0) -> int:
        """A port for `owner` that no other server of this hub holds and nothing listens on:
        from [first, last] when given, else one the kernel picks."""
        self.release(owner)
        for _ in range(_ATTEMPTS):
            port = random.randint(first, last) if first else random_port()
            if port not in self._held and bindable(port):
                self._held[port] = owner
                return port
        where = f"in {first}-{last}" if first else "from the kernel"
        raise RuntimeError(f"no free loopback port {where} after {_ATTEMPTS} tries")

    def keep(self, owner: str, port: int) -> None:
        """A server already running on `port` (state loaded at the hub's start): hold it."""
        self._held[port] = owner

    def release(self, owner: str) -> None:
        for port in [p for p, o in self._held.items() if o == owner]:
            del self._held[port]
