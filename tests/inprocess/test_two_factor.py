"""Two-factor sign-in in process: set-up on My account (QR code drawn on the hub, a wrong code
changing nothing, recovery codes shown once), the code page after the password, turning it off,
an admin clearing it (in bulk too, and a secret the hub's key cannot open), and the admins' rule
for host power, each refusal in a sentence. The attacks (a replayed code, guessing codes, a
member without it reaching nothing, a clear without sudo mode) run on the real hub:
tests/integration/test_two_factor.py."""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet

from portal.auth.secret_box import SecretBox
from portal.platform.logs import portal_logger
from tests.support.audit import audit
from tests.support.clients import PASSWORD, Portal, try_sign_in
from tests.support.two_factor import (
    code,
    code_step,
    location,
    password_step,
    require_for_host_power,
    signed_in,
    turn_on,
)


def details(hub, name: str) -> list[str]:
    return [e["detail"] for e in audit(hub, user=name, kind="two-factor")]


def test_set_up_on_my_account_then_sign_in_with_a_code(hub, make_user):
    user = make_user("twofa")
    page = user.get("portal/account", htmx=False).text
    assert 'id="two-factor-state">off<' in page
    r = user.post("portal/account/two-factor/start")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "<svg" in r.text and 'id="two-factor-secret"' in r.text
    r = user.post("portal/account/two-factor/confirm", {"code": "12345x"})
    assert r.status_code == 403 and "does not match" in r.text
    assert 'id="two-factor-state">off<' in user.get("portal/account", htmx=False).text
    secret, recovery = turn_on(user)  # a new secret: the first was never confirmed
    assert len(recovery) == 10
    page = user.get("portal/account", htmx=False).text
    assert 'id="two-factor-state">on<' in page and 'id="recovery-left">10<' in page
    # The password alone no longer signs in: it leads to the code page, with no session.
    s, r = password_step(hub, user.name, PASSWORD)
    assert r.status_code == 302 and "/portal/login/code" in location(hub, r)
    assert not signed_in(hub, s)
    page = s.get(location(hub, r), timeout=30)
    assert page.status_code == 200 and "Code from your authenticator app" in page.text
    r = code_step(hub, s, "000000" if code(secret) != "000000" else "111111")
    assert r.status_code == 403 and "not right, or was used already" in r.text
    r = code_step(hub, s, code(secret))
    assert r.status_code == 302 and location(hub, r).endswith("/portal"), r.text
    assert signed_in(hub, s)
    # A code page without a ticket (or with a used one) opens nothing.
    r = code_step(hub, s, recovery[0])
    assert r.status_code == 403 and "sign in again with your password" in r.text
    assert details(hub, user.name) == [
        "turned on with an authenticator app; 10 recovery codes made (shown once)"]


def test_recovery_codes_turning_off_and_a_wrong_password_refused(hub, make_user):
    user = make_user("twofa-off")
    _, recovery = turn_on(user)
    s, _ = password_step(hub, user.name, PASSWORD)
    r = code_step(hub, s, recovery[3].upper())
    assert r.status_code == 302 and signed_in(hub, s)
    assert 'id="recovery-left">9<' in user.get("portal/account", htmx=False).text
    r = user.post("portal/account/two-factor/recovery-codes", {"password": "wrong-password"})
    assert r.status_code == 403 and "password was incorrect" in r.text
    r = user.post("portal/account/two-factor/recovery-codes", {"password": PASSWORD})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    r = user.post("portal/account/two-factor/off", {"password": "wrong-password"})
    assert r.status_code == 403 and "Nothing was changed" in r.text
    r = user.post("portal/account/two-factor/off", {"password": PASSWORD})
    assert r.status_code == 200 and r.headers["HX-Redirect"].endswith("/portal/account")
    assert try_sign_in(hub, user.name).status_code == 302
    assert location(hub, try_sign_in(hub, user.name)).endswith("/portal")
    assert details(hub, user.name) == [
        "turned off by the account itself, with its password",
        "10 new recovery codes made (the old ones no longer work)",
        "signed in with a recovery code (9 left)",
        "turned on with an authenticator app; 10 recovery codes made (shown once)"]


def test_an_admin_clears_a_second_factor_and_refusals_say_why(hub, admin, make_user):
    user = make_user("lost-phone")
    turn_on(user)
    table = admin.get("portal/admin/user-table", params={"q": user.name}).text
    assert "two-factor-state" in table and f"{user.name}/clear-2fa" in table
    assert make_user("not-admin").post(
        f"portal/admin/accounts/{user.name}/clear-2fa").status_code == 403
    r = admin.post(f"portal/admin/accounts/{user.name}/clear-2fa")
    assert r.status_code == 200 and "password alone signs them in" in r.text
    r = admin.post(f"portal/admin/accounts/{user.name}/clear-2fa")
    assert r.status_code == 409 and "no two-factor sign-in to clear" in r.text
    r = admin.post("portal/admin/accounts/admin/clear-2fa")
    assert r.status_code == 409 and "on My account" in r.text
    assert location(hub, try_sign_in(hub, user.name)).endswith("/portal")
    [event] = [e for e in audit(hub, user=user.name, kind="two-factor") if e["actor"] == "admin"]
    assert "is cleared" in event["detail"]


def test_a_bulk_clear_says_per_account_what_it_did_and_audits_each(hub, admin, make_user):
    phones = [make_user("lost-phones") for _ in range(2)]
    for user in phones:
        turn_on(user)
    without = make_user("never-2fa")
    names = [u.name for u in phones] + [without.name, "admin", "no-such-user"]
    table = admin.get("portal/admin/user-table").text
    assert '<option value="clear-2fa">Clear their two-factor sign-in</option>' in table
    r = admin.post("portal/admin/bulk", {"action": "clear-2fa", "user": names,
                                         "scope": "selected"})
    assert r.status_code == 200 and "2 of 5 done" in r.text, r.text
    assert "no two-factor sign-in to clear" in r.text and "on My account" in r.text
    assert "no such user" in r.text
    for user in phones:
        assert location(hub, try_sign_in(hub, user.name)).endswith("/portal")
        [event] = [e for e in audit(hub, user=user.name, kind="two-factor")
                   if e["actor"] == "admin"]
        assert "is cleared" in event["detail"]
    assert details(hub, without.name) == []


def test_a_secret_the_key_cannot_open_signs_nobody_in_and_an_admin_clears_it(hub, admin,
                                                                             make_user):
    user = make_user("other-key")
    secret, _ = turn_on(user)
    two_factor = hub.app.tornado_settings["dshub_portal"].two_factor
    hubs_box = two_factor.box
    two_factor.box = SecretBox(Fernet.generate_key)  # as if TWO_FACTOR_KEY had changed
    # The portal's log lines reach the in-process hub's log file only until another test in
    # this worker reconfigures logging; a handler on the portal's own logger sees every line.
    lines = Lines()
    portal_logger("two-factor").addHandler(lines)
    try:
        hub.run(two_factor.load())
        table = admin.get("portal/admin/user-table", params={"q": user.name}).text
        assert "2FA unreadable" in table and f"{user.name}/clear-2fa" in table
        s, r = password_step(hub, user.name, PASSWORD)
        assert "/portal/login/code" in location(hub, r)  # still asked for: never open
        assert code_step(hub, s, code(secret)).status_code == 403 and not signed_in(hub, s)
        assert any("cannot be decrypted" in line for line in lines.seen)
        assert not any(secret in line for line in lines.seen)
        assert secret not in hub.log_path.read_text()
        r = admin.post(f"portal/admin/accounts/{user.name}/clear-2fa")
        assert r.status_code == 200 and "password alone signs them in" in r.text
        assert location(hub, try_sign_in(hub, user.name)).endswith("/portal")
    finally:
        portal_logger("two-factor").removeHandler(lines)
        two_factor.box = hubs_box
        hub.run(two_factor.load())


class Lines(logging.Handler):
    """Every message a logger gives it, formatted."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


def test_the_rule_sends_a_host_power_member_to_set_up_first(hub, admin, make_user):
    member = make_user("sock-member")
    plain = make_user("no-power")
    r = admin.post("portal/admin/groups/docker-sock/add", {"username": member.name})
    assert r.status_code == 200, r.text
    fresh = Portal(hub, "admin")  # no sudo mode in this session
    require_for_host_power(hub, True)
    try:
        page = member.s.get(member.url("portal"), allow_redirects=False, timeout=30)
        assert page.status_code == 302
        assert page.headers["Location"].endswith("/portal/account/two-factor/required")
        r = member.get(f"portal/users/{member.name}/card", allow_redirects=False)
        assert r.status_code == 302 and r.headers["Location"].endswith("two-factor/required")
        r = member.post(f"portal/users/{member.name}/start")
        assert r.status_code == 403 and "set it up" in r.text
        r = member.s.get(member.url(f"api/users/{member.name}"), timeout=30)
        assert r.status_code == 403 and "set it up" in r.json()["message"]
        assert plain.get("portal", htmx=False).status_code == 200  # no host power: untouched
        required = member.get("portal/account/two-factor/required", htmx=False)
        assert required.status_code == 200 and "nothing else of the hub opens" in required.text
        turn_on(member)
        assert member.get("portal", htmx=False).status_code == 200
        r = member.post("portal/account/two-factor/off", {"password": PASSWORD})
        assert r.status_code == 409 and "cannot be turned off" in r.text
        # Admins hold host power too: the admin's own session is sent to set it up as well.
        r = fresh.post("portal/admin/account-policy", {"require": ""})
        assert r.status_code == 403 and "set it up" in r.text
    finally:
        require_for_host_power(hub, False)
        admin.post("portal/admin/groups/docker-sock/remove", {"username": member.name})
    # Dropping the rule weakens every host-power account: sudo mode first.
    r = fresh.post("portal/admin/account-policy", {"require": ""})
    assert r.status_code == 403 and "data-sudo" in r.text
    r = fresh.post("portal/admin/account-policy", {"require": "", "sudo_password": PASSWORD})
    assert r.status_code == 200 and "Nothing changed" in r.text
    events = audit(hub, kind="account policy")
    assert [e["detail"].split(":")[0] for e in events[:2]] == [
        "Two-factor sign-in is no longer required for accounts that hold host power.",
        "Two-factor sign-in is now required for accounts that hold host power"]
