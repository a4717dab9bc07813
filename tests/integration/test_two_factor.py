"""Attacks on two-factor sign-in, on the real hub: a code seen once is replayed, codes are
guessed, and a member with host power but no second factor tries to act before setting it up
(while admins require it), or a stolen admin cookie clears a member's second factor (one
account or in bulk); the secret in the store is encrypted, its key readable by the hub alone."""

from __future__ import annotations

import stat

import pytest

from tests.support.audit import audit
from tests.support.clients import PASSWORD, Portal, session_from
from tests.support.two_factor import code, code_step, location, password_step, signed_in, turn_on
from tests.support.two_factor import require_for_host_power as require_2fa

pytestmark = [pytest.mark.docker, pytest.mark.hub]


def test_the_secret_is_stored_encrypted_with_a_key_only_the_hub_reads(hub, make_user):
    user = make_user("at-rest")
    secret, _ = turn_on(user)
    [(stored,)] = hub.sql("portal", "SELECT secret FROM two_factor WHERE user = :n", n=user.name)
    assert stored.startswith("fernet:") and secret not in stored
    key = hub.data_dir / "two-factor.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip() not in hub.log_path.read_text()
    assert secret not in hub.log_path.read_text()


def test_a_code_seen_once_cannot_sign_in_again(hub, make_user):
    user = make_user("replayed")
    secret, _ = turn_on(user)
    seen = code(secret)
    owner, _ = password_step(hub, user.name, PASSWORD)
    assert code_step(hub, owner, seen).status_code == 302 and signed_in(hub, owner)
    # Someone who saw that code (and knows the password) tries it within its 30 seconds.
    thief, r = password_step(hub, user.name, PASSWORD, address="127.0.0.61")
    assert "/portal/login/code" in location(hub, r)
    r = code_step(hub, thief, seen)
    assert r.status_code == 403 and "used already" in r.text
    assert not signed_in(hub, thief)
    # Nor does the code page sign in a browser that never gave the password.
    stranger = session_from("127.0.0.61")
    stranger.get(hub.hub_url("login"), timeout=10)
    r = code_step(hub, stranger, code(secret, 0))
    assert r.status_code == 403 and "sign in again with your password" in r.text
    assert not signed_in(hub, stranger)


def test_guessed_codes_count_like_wrong_passwords(hub, make_user):
    user = make_user("guessed")
    secret, _ = turn_on(user)
    guesser = "127.0.0.62"
    wrong = "000000" if code(secret) != "000000" else "111111"
    first, _ = password_step(hub, user.name, PASSWORD, address=guesser)
    for _ in range(3):
        r = code_step(hub, first, wrong)
        assert r.status_code == 403 and "not right" in r.text
    second, r = password_step(hub, user.name, PASSWORD, address=guesser)
    assert "/portal/login/code" in location(hub, r)  # 3 failures: still under the free 5
    for _ in range(2):
        assert code_step(hub, second, wrong).status_code == 403
    # Five failures from this address: even the right code waits, unchecked (and not used up).
    r = code_step(hub, second, code(secret))
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    assert not signed_in(hub, second)
    # The owner, from their own address, is not slowed down by the guesser.
    owner, _ = password_step(hub, user.name, PASSWORD)
    assert code_step(hub, owner, code(secret)).status_code == 302 and signed_in(hub, owner)


def test_a_host_power_member_without_it_reaches_nothing_before_setting_it_up(hub, admin,
                                                                            make_user):
    member = make_user("sock-2fa")
    r = admin.post("portal/admin/groups/docker-sock/add", {"username": member.name})
    assert r.status_code == 200, r.text
    require_2fa(hub, True)
    try:
        for path in ("portal", "portal/admin", "token", f"user/{member.name}/",
                     "portal/account"):
            r = member.s.get(member.url(path), allow_redirects=False, timeout=30)
            assert r.status_code == 302, path
            assert r.headers["Location"].endswith("/portal/account/two-factor/required"), path
        for method, path in (("post", f"api/users/{member.name}/tokens"),
                             ("post", f"api/users/{member.name}/server"),
                             ("get", f"api/users/{member.name}"),
                             ("post", f"portal/users/{member.name}/start"),
                             ("post", "portal/account/password")):
            r = getattr(member.s, method)(member.url(path), timeout=30, json={},
                                          headers={"X-XSRFToken": member.xsrf})
            assert r.status_code == 403 and "set it up" in r.text, (path, r.text[:200])
        secret, _ = turn_on(member)
        assert member.get("portal", htmx=False).status_code == 200
        # A stolen admin cookie (no sudo mode) cannot take the member's second factor away.
        stolen = Portal(hub, "admin")
        require_2fa(hub, False)
        r = stolen.post(f"portal/admin/accounts/{member.name}/clear-2fa")
        assert r.status_code == 403 and "data-sudo" in r.text
        # Nor in bulk (the gate asks for sudo mode for any bulk clear: the form names one).
        r = stolen.post("portal/admin/bulk", {"action": "clear-2fa", "user": member.name,
                                              "scope": "selected"})
        assert r.status_code == 403 and "data-sudo" in r.text
        assert "clearing two-factor sign-in in bulk" in r.text
        s, r = password_step(hub, member.name, PASSWORD)
        assert "/portal/login/code" in location(hub, r)  # still asked for
        assert code_step(hub, s, code(secret)).status_code == 302
    finally:
        require_2fa(hub, False)
        admin.post("portal/admin/groups/docker-sock/remove", {"username": member.name})
    assert [e["detail"] for e in audit(hub, user=member.name, kind="two-factor")] == [
        "turned on with an authenticator app; 10 recovery codes made (shown once)"]
