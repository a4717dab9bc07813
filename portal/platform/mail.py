"""Owns sending mail: a bounded queue, one worker, smtplib on a thread, a few tries, a log line.

Off while SMTP_HOST is empty (`queue` does nothing). Nothing that queues a mail waits for it: a
mail server that is down or slow never holds up a sign-up or a reset. Each mail is tried up to
`tries` times, `retry_after` seconds apart (doubling), then given up with a warning in the hub
log; every outcome is one log line naming what the mail was about and its recipients, never its
body (a temporary password may be in it). The queue holds `most` mails at most: past that a new
one is dropped with a warning.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from .logs import portal_logger

log = portal_logger("mail")
TIMEOUT = 20.0  # seconds for each SMTP exchange


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str
    about: str  # for the log: what this mail is (never its body)


@dataclass
class SmtpServer:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    user: str = ""
    password: str = ""
    sender: str = ""

    @property
    def from_address(self) -> str:
        if self.sender:
            return self.sender
        return self.user if "@" in self.user else f"ds-hub@{self.host}"

    def send(self, mail: Mail) -> None:
        """Blocking: runs on a thread."""
        message = EmailMessage()
        message["From"], message["To"] = self.from_address, ", ".join(mail.to)
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        context = ssl.create_default_context()
        if self.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT,
                                                    context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password)
            client.send_message(message)


class Mailer:
    def __init__(self, server: SmtpServer | None, admins: tuple[str, ...] = (), tries: int = 4,
                 retry_after: float = 30.0, most: int = 1000,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.server = server
        self.admins = admins  # ADMIN_EMAILS: told of sign-ups
        self.tries = tries
        self.retry_after = retry_after
        self.sleep = sleep
        self._queue: asyncio.Queue[Mail] | None = None
        self.most = most
        self.sent = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        return self.server is not None and bool(self.server.host)

    def queue(self, to: tuple[str, ...] | list[str], subject: str, body: str,
              about: str) -> bool:
        """Send soon (False: mail is off, nobody to send to, or the queue is full)."""
        to = tuple(a for a in to if a)
        if not self.enabled or not to:
            return False
        if self._queue is None:
            self._queue = asyncio.Queue(self.most)
        try:
            self._queue.put_nowait(Mail(to, subject, body, about))
        except asyncio.QueueFull:
            log.warning("Mail queue full (%d): %s to %s dropped", self.most, about, ", ".join(to))
            return False
        return True

    async def run(self, app: Any = None) -> None:
        """The worker, for as long as the hub runs."""
        if self._queue is None:
            self._queue = asyncio.Queue(self.most)
        while True:
            mail = await self._queue.get()
            try:
                await self.deliver(mail)
            finally:
                self._queue.task_done()

    async def deliver(self, mail: Mail) -> bool:
        assert self.server is not None
        wait = self.retry_after
        for attempt in range(1, self.tries + 1):
            try:
                await asyncio.to_thread(self.server.send, mail)
            except (OSError, smtplib.SMTPException) as error:
                if attempt == self.tries:
                    self.failed += 1
                    log.warning("Mail %s to %s not sent after %d tries: %s", mail.about,
                                ", ".join(mail.to), attempt, error)
                    return False
                log.info("Mail %s to %s: try %d failed (%s); again in %.0f s", mail.about,
                         ", ".join(mail.to), attempt, error, wait)
                await self.sleep(wait)
                wait *= 2
                continue
            self.sent += 1
            log.info("Mail %s sent to %s", mail.about, ", ".join(mail.to))
            return True
        return False

    async def drained(self) -> None:
        """Every queued mail delivered or given up (tests)."""
        if self._queue is not None:
            await self._queue.join()
