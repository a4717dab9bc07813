"""Owns sign-in throttling: failures slow down per client address, never locking an account.

After `free_failures` failures an address waits before its next try: 2 s, then twice as long
after every further failure, up to `max_delay`. A try during the wait is refused at once (no
password check, no bcrypt). Success from an address forgets its failures; other addresses are
never affected, so the real owner of an account signs in while a stranger is slowed down.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last_seen: float = 0.0
    in_flight: int = 0


class SignInThrottle:
    """Per-address failure counts; all calls come from the hub's one event loop."""

    def __init__(self, free_failures: int = 5, base_delay: float = 2.0, max_delay: float = 300.0,
                 forget_after: float = 3600.0, max_in_flight: int = 2,
                 max_addresses: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_in_flight = max_in_flight
        self.max_addresses = max_addresses
        self.clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def _record(self, address: str) -> _Record:
        now = self.clock()
        record = self._records.get(address)
        if record is None or now - record.last_seen > self.forget_after:
            record = _Record()
        self._records[address] = record
        self._records.move_to_end(address)
        record.last_seen = now
        # Bounded memory whatever the number of addresses: the least recently seen go first.
        while len(self._records) > self.max_addresses:
            self._records.popitem(last=False)
        return record

    def wait(self, address: str) -> float:
        """Seconds this address must wait before a try is checked (0: it may try now)."""
        record = self._record(address)
        if record.in_flight >= self.max_in_flight:
            # Nobody signs in twice at the same moment; a flood of parallel tries does.
            return 1.0
        return max(0.0, record.blocked_until - self.clock())

    def begin(self, address: str) -> None:
        self._record(address).in_flight += 1

    def end(self, address: str, success: bool) -> None:
        record = self._record(address)
        record.in_flight = max(0, record.in_flight - 1)
        if success:
            record.failures = 0
            record.blocked_until = 0.0
            return
        record.failures += 1
        over = record.failures - self.free_failures
        if over >= 0:
            delay = min(self.max_delay, self.base_delay * 2 ** min(over, 30))
            record.blocked_until = self.clock() + delay


def address_key(ip: str) -> str:
    """One key per IPv4 address, and per /64 for IPv6 (one host usually holds a whole /64)."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _peer_is_local(request: Any) -> bool:
    """Whether the connection itself comes from this machine (the hub's own proxy)."""
    context = getattr(request.connection, "context", None)
    peer = (getattr(context, "address", None) or ("",))[0]
    try:
        if ipaddress.ip_address(peer).is_loopback:
            return True
        local = request.connection.stream.socket.getsockname()[0]
    except (ValueError, AttributeError, OSError, TypeError):
        return False
    return peer == local


def client_address(request: Any, trusted_hops: int = 0) -> str:
    """The address a request comes from, as the proxies in front of the hub report it.

    The hub's own proxy appends the address it sees to X-Forwarded-For; `trusted_hops` more
    proxies (Traefik in compose.yml: 1) each add one before it. Entries further left are the
    client's own words and are ignored. A connection that does not come from this machine
    (something reaching the hub's port directly) is judged by its own address.
    """
    context = getattr(request.connection, "context", None)
    peer = (getattr(context, "address", None) or (request.remote_ip,))[0]
    if not _peer_is_local(request):
        return address_key(str(peer))
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) > trusted_hops:
        return address_key(hops[-1 - trusted_hops])
    return address_key(hops[0] if hops else str(peer))
