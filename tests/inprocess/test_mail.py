"""Mail in process, to a real SMTP server on loopback that the test starts (aiosmtpd): admins
hear of a sign-up, an approved sign-up hears of it at the address it gave, a reset's temporary
password goes to the account's own address (My account) before its sign-up's, a dormant
account is warned before the automatic disable and disabled only a week after. Mail is off
unless SMTP_HOST is set: the hub is pointed at the local server here, and back after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.admin.dormant import WARN_DAYS, disable_dormant
from portal.audit.log import SYSTEM_ACTOR
from portal.platform.mail import SmtpServer
from portal.servers.actions import HubActions
from tests.support.audit import audit
from tests.support.clients import PASSWORD, Portal, signup, try_sign_in
from tests.support.dormant import idle_for
from tests.support.smtp import local_smtp


@pytest.fixture
def inbox(hub):
    mail = hub.app.tornado_settings["dshub_portal"].mail
    controller, inbox = local_smtp()
    mail.server, mail.admins = SmtpServer("127.0.0.1", controller.port, "none"), (
        "ops@example.org",)
    yield inbox
    hub.run(mail.drained())
    mail.server, mail.admins = None, ()
    controller.stop()


def test_admins_hear_of_a_sign_up_and_a_reset_is_mailed_to_the_account(hub, admin, inbox,
                                                                       make_user):
    assert signup(hub, "mailed-newcomer").status_code == 200
    [first] = inbox.wait_for(1)
    assert first["To"] == "ops@example.org"
    assert first["Subject"] == "DS Hub: mailed-newcomer signed up"
    assert "portal/admin/signups" in first.get_payload()
    user = make_user("with-address")
    hub.sql("hub", "UPDATE users_info SET email = 'ann@example.org' WHERE username = :n",
            n=user.name)
    r = admin.post(f"portal/admin/accounts/{user.name}/reset-password")
    assert r.status_code == 200
    mails = [m for m in inbox.wait_for(2) if m["To"] == "ann@example.org"]
    temporary = mails[0].get_payload().split()[-1]
    assert mails[0]["Subject"] == "DS Hub: your temporary password"
    assert temporary in r.text and try_sign_in(hub, user.name, temporary).status_code == 302
    assert temporary not in hub.log_path.read_text()


def test_an_approval_is_mailed_and_a_reset_goes_to_the_accounts_own_address(hub, admin, inbox):
    assert signup(hub, "approved-by-mail", email="pat@example.org").status_code == 200
    r = admin.post("portal/admin/signups/approved-by-mail/approve")
    assert r.status_code == 200, r.text
    [mail] = [m for m in inbox.wait_for(2) if m["To"] == "pat@example.org"]
    assert mail["Subject"] == "DS Hub: your account is approved"
    assert "approved-by-mail" in mail.get_payload() and "/hub/login" in mail.get_payload()
    [event] = audit(hub, user="approved-by-mail", kind="account approved")
    assert event["detail"] == "sign-up approved; the account was told by mail"
    # The account's own address, once set, is where its mail goes (not the sign-up's).
    user = Portal(hub, "approved-by-mail")
    r = user.post("portal/account/email", {"email": "pat@work.example.org",
                                           "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert admin.post("portal/admin/accounts/approved-by-mail/reset-password").status_code == 200
    inbox.wait_for(3)  # the admins' sign-up mail, the approval, the reset
    [reset] = [m for m in inbox.messages if m["Subject"] == "DS Hub: your temporary password"
               and "approved-by-mail" in m.get_payload()]
    assert reset["To"] == "pat@work.example.org"


def test_a_dormant_account_is_warned_then_disabled_a_week_later(hub, admin, inbox, make_user):
    app = hub.app
    runtime = app.tornado_settings["dshub_portal"]

    async def stop(user) -> None:
        await app.proxy.delete_user(user)
        await user.stop()

    def a_pass(now: datetime, warned: dict) -> list[str]:
        hub_actions = HubActions(stop, stop, "", SYSTEM_ACTOR)
        return hub.run(disable_dormant(app, runtime, hub_actions, now, warned))

    user = make_user("dormant-mailed")
    hub.sql("hub", "UPDATE users_info SET email = 'dora@example.org' WHERE username = :n",
            n=user.name)
    idle_for(hub, user.name, 200)
    admin.post("portal/admin/dormant", {"auto_days": "180", "days": "90"})
    warned: dict = {}
    try:
        now = datetime.now(UTC)
        # Only this account is asked about: other tests' accounts on the worker's hub may be
        # dormant too (idle_for), and a pass disables those that are due.
        assert user.name not in a_pass(now, warned)  # warned, not disabled yet
        [mail] = [m for m in inbox.wait_for(1) if m["To"] == "dora@example.org"]
        assert mail["Subject"] == "DS Hub: your account will be disabled"
        assert user.name not in a_pass(now + timedelta(days=1), warned)  # no second mail yet
        assert user.name in a_pass(now + timedelta(days=WARN_DAYS), warned)
        assert try_sign_in(hub, user.name).status_code == 403
        assert len([m for m in inbox.messages if m["To"] == "dora@example.org"]) == 1
    finally:
        admin.post("portal/admin/dormant", {"auto_days": "0", "days": "90"})
