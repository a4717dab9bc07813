"""Mail on a real hub of its own, pointed at an SMTP server the test starts on loopback
(aiosmtpd): an approved sign-up hears of it at the address it gave, a reset's temporary password
goes to the account's own address, and a cookie without the password cannot move that address
(the next reset's mail would go to whoever holds the cookie)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.clients import PASSWORD, Portal, signup, try_sign_in
from tests.support.hub import Hub
from tests.support.smtp import local_smtp

pytestmark = [pytest.mark.docker, pytest.mark.hub]


@pytest.fixture(scope="module")
def mailing_hub(tmp_path_factory) -> Iterator[tuple[Hub, object]]:
    controller, inbox = local_smtp()
    hub = Hub(tmp_path_factory.mktemp("mailing"), env={
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(controller.port), "SMTP_SECURITY": "none",
        "MAIL_FROM": "hub@example.org", "ADMIN_EMAILS": "ops@example.org"})
    hub.start()
    try:
        assert signup(hub, "admin", setup_code=hub.setup_code()).status_code == 200
        yield hub, inbox
    finally:
        hub.stop()
        controller.stop()


def mails_to(inbox, address: str, timeout: float = 30) -> list:
    """The mails to `address`, once there is one (the hub's worker sends on its own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := [m for m in inbox.messages if m["To"] == address]:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no mail to {address}: {[m['To'] for m in inbox.messages]}")


def test_approval_and_reset_mail_and_a_cookie_cannot_move_the_address(mailing_hub):
    hub, inbox = mailing_hub
    admin = Portal(hub, "admin")
    assert signup(hub, "mailed-member", email="mia@example.org").status_code == 200
    assert admin.post("portal/admin/signups/mailed-member/approve").status_code == 200
    [approval] = mails_to(inbox, "mia@example.org")
    assert approval["Subject"] == "DS Hub: your account is approved"
    assert approval["From"] == "hub@example.org"

    member = Portal(hub, "mailed-member")
    r = member.post("portal/account/email", {"email": "eve@example.org", "password": "guess"})
    assert r.status_code == 403 and "password was incorrect" in r.text
    r = member.post("portal/account/email", {"email": "eve@example.org"})
    assert r.status_code == 403
    assert hub.sql("portal", "SELECT address FROM email_addresses") == []
    r = member.post("portal/account/email", {"email": "mia@work.example.org",
                                             "password": PASSWORD})
    assert r.status_code == 200, r.text

    r = admin.post("portal/admin/accounts/mailed-member/reset-password")
    assert r.status_code == 200, r.text
    [reset] = mails_to(inbox, "mia@work.example.org")
    temporary = reset.get_payload().split()[-1]
    assert temporary in r.text and temporary not in hub.log_path.read_text()
    assert try_sign_in(hub, "mailed-member", temporary).status_code == 302
    assert not [m for m in inbox.messages if m["To"] == "eve@example.org"]
