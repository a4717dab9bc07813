"""Mail against a real SMTP server on loopback (aiosmtpd, started here): a queued mail is
delivered off the event loop; a server that is down is tried a bounded number of times, then
given up with a log line that never holds the body; mail off queues nothing."""

from __future__ import annotations

import logging

import pytest

from portal.platform.mail import Mailer, SmtpServer, log
from tests.support.hub import free_port
from tests.support.smtp import local_smtp

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


@pytest.fixture
def smtp():
    controller, inbox = local_smtp()
    yield controller.port, inbox
    controller.stop()


async def test_a_queued_mail_is_delivered(smtp):
    port, inbox = smtp
    mailer = Mailer(SmtpServer("127.0.0.1", port, "none", sender="hub@example.org"))
    assert mailer.queue(["ops@example.org"], "DS Hub: ann signed up", "ann signed up.", "sign-up")
    assert await mailer.deliver(mailer._queue.get_nowait())
    [mail] = inbox.messages
    assert mail["To"] == "ops@example.org" and mail["From"] == "hub@example.org"
    assert mail["Subject"] == "DS Hub: ann signed up"
    assert "ann signed up." in mail.get_payload()


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_a_server_that_is_down_is_tried_a_few_times_then_given_up():
    waits = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    mailer = Mailer(SmtpServer("127.0.0.1", free_port(), "none"), tries=3, retry_after=30.0,
                    sleep=sleep)
    mailer.queue(["ann@example.org"], "secret", "temporary password: XYZW-1234", "reset of ann")
    lines = Lines()
    log.addHandler(lines)
    level, disabled = log.level, log.disabled
    log.setLevel(logging.INFO)
    log.disabled = False  # a logging configuration loaded by another test may have disabled it
    try:
        assert not await mailer.deliver(mailer._queue.get_nowait())
    finally:
        log.removeHandler(lines)
        log.setLevel(level)
        log.disabled = disabled
    assert waits == [30.0, 60.0] and mailer.failed == 1
    text = "\n".join(lines.lines)
    assert "reset of ann to ann@example.org not sent after 3 tries" in text
    assert "XYZW-1234" not in text


def test_mail_off_or_nobody_to_mail_queues_nothing():
    assert not Mailer(None).queue(["a@example.org"], "s", "b", "x")
    assert not Mailer(SmtpServer("127.0.0.1")).queue([""], "s", "b", "x")
    full = Mailer(SmtpServer("127.0.0.1"), most=1)
    assert full.queue(["a@example.org"], "s", "b", "x")
    assert not full.queue(["a@example.org"], "s", "b", "x")  # dropped, never waited for
