"""Owns sign-in throttling: failures slow down per client address and per target account,
never locking an account's owner out.

After `free_failures` failures an address waits before its next try: 2 s, then twice as long
after every further failure, up to `max_delay`. A try during the wait is refused at once (no
password check, no bcrypt). An account that many addresses guess at (`account_free_failures`,
a botnet spreading its tries) makes the same waits, but only for addresses it was never signed
in from: its owner, from an address they signed in from before, is never slowed by strangers.
Only a successful sign-in forgets an address's failures (callers decide what that is).
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last_seen: float = 0.0
    in_flight: int = 0
    # Accounts only: addresses it signed in from lately (its owner's), oldest first.
    known: OrderedDict[str, None] = field(default_factory=OrderedDict)


KNOWN_ADDRESSES = 16  # per account


class SignInThrottle:
    """Per-address failure counts; all calls come from the hub's one event loop."""

    def __init__(self, free_failures: int = 5, base_delay: float = 2.0, max_delay: float = 300.0,
                 forget_after: float = 3600.0, max_in_flight: int = 2,
                 max_addresses: int = 100_000, account_free_failures: int = 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free_failures = free_failures
        self.account_free_failures = account_free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_in_flight = max_in_flight
        self.max_addresses = max_addresses
        self.clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._accounts: OrderedDict[str, _Record] = OrderedDict()

    def _record(self, key: str, table: OrderedDict[str, _Record] | None = None) -> _Record:
        table = self._records if table is None else table
        now = self.clock()
        record = table.get(key)
        if record is None or now - record.last_seen > self.forget_after:
            record = _Record(known=record.known if record is not None else OrderedDict())
        table[key] = record
        table.move_to_end(key)
        record.last_seen = now
        # Bounded memory whatever the number of addresses: the least recently seen go first.
        while len(table) > self.max_addresses:
            table.popitem(last=False)
        return record

    def wait(self, address: str, account: str = "") -> float:
        """Seconds this address must wait before a try (at `account`) is checked (0: now)."""
        record = self._record(address)
        if record.in_flight >= self.max_in_flight:
            # Nobody signs in twice at the same moment; a flood of parallel tries does.
            return 1.0
        wait = record.blocked_until - self.clock()
        if account:
            target = self._record(account, self._accounts)
            if address not in target.known:
                wait = max(wait, target.blocked_until - self.clock())
        return max(0.0, wait)

    def begin(self, address: str) -> None:
        self._record(address).in_flight += 1

    def end(self, address: str, success: bool | None, account: str = "") -> None:
        """A try ended: True a successful sign-in (forgets the address's failures and marks it
        as the account's own), False a wrong password or code, None neither."""
        record = self._record(address)
        record.in_flight = max(0, record.in_flight - 1)
        if success is None:
            return
        if success:
            record.failures = 0
            record.blocked_until = 0.0
            if account:
                known = self._record(account, self._accounts).known
                known[address] = None
                known.move_to_end(address)
                while len(known) > KNOWN_ADDRESSES:
                    known.popitem(last=False)
            return
        self._fail(record, self.free_failures)
        if account:
            self._fail(self._record(account, self._accounts), self.account_free_failures)

    def _fail(self, record: _Record, free: int) -> None:
        record.failures += 1
        over = record.failures - free
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
