"""Owns the sign-ins halfway through: the password was right, the second factor is still to come.

The browser holds only a random ticket (a cookie); the hub keeps what it stands for in memory:
the account, when it expires, and how many codes it was refused. A ticket is
no session: it opens nothing but the code page, lives 5 minutes, is void after 5 wrong codes (the
password must be typed again), and is used up by the sign-in it completes. A hub restart forgets
every ticket: whoever was halfway signs in again.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "dshub-sign-in-code"
LIFETIME = 300.0
TRIES = 5
MOST = 10_000  # tickets kept at most (the oldest go first)


@dataclass
class Ticket:
    user: str
    expires: float
    refused: int = 0


class SignInTickets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tickets: OrderedDict[str, Ticket] = OrderedDict()

    def issue(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        self._tickets[token] = Ticket(user, self.clock() + LIFETIME)
        while len(self._tickets) > MOST:
            self._tickets.popitem(last=False)
        return token

    def get(self, token: str | None) -> Ticket | None:
        ticket = self._tickets.get(token or "")
        if ticket is None:
            return None
        if ticket.expires <= self.clock() or ticket.refused >= TRIES:
            self._tickets.pop(token or "", None)
            return None
        return ticket

    def refused(self, token: str) -> bool:
        """One more wrong code on this ticket; True when it is now void."""
        ticket = self._tickets.get(token)
        if ticket is None:
            return True
        ticket.refused += 1
        if ticket.refused >= TRIES:
            self._tickets.pop(token, None)
            return True
        return False

    def use(self, token: str) -> None:
        self._tickets.pop(token, None)
