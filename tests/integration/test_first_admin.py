"""Attacks on a fresh hub: signing up as the admin without the setup code, reusing the code,
flooding the approval queue, and locking the admin out with wrong passwords.

A hub of its own (no admin yet; SIGNUP_MAX_PENDING=2), so its failed sign-ins from 127.0.0.1
slow down no other test.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.support.clients import PASSWORD, signup, try_sign_in
from tests.support.hub import ROOT, Hub

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def fresh_hub(tmp_path_factory) -> Iterator[Hub]:
    hub = Hub(tmp_path_factory.mktemp("fresh"), base_url="/", env={"SIGNUP_MAX_PENDING": "2"})
    hub.start()
    yield hub
    hub.stop()


def cli(hub: Hub, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / ".venv" / "bin" / args[0]), *args[1:]], env=hub.env(),
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_a_stranger_cannot_sign_up_as_the_admin_without_the_setup_code(fresh_hub):
    for code in ("", "AAAA-BBBB-CCCC-DDDD"):
        r = signup(fresh_hub, "admin", setup_code=code)
        assert r.status_code == 403, r.text[:500]
        assert "needs the one-time setup code" in r.text and "No account was created" in r.text
        assert try_sign_in(fresh_hub, "admin").status_code != 302
    assert fresh_hub.setup_code(), "a refused try must not use up the code"


def test_the_setup_code_is_printed_works_once_and_dshub_add_user_still_works(fresh_hub):
    code = fresh_hub.setup_code()
    log = fresh_hub.log_path.read_text()
    assert f"DS Hub setup code: {code}" in log and "dshub-setup-code" in log
    assert cli(fresh_hub, "dshub-setup-code").stdout.strip() == code
    # The form shows the field while the code is in force (next to the admin name only).
    assert 'name="setup_code"' in __import__("requests").get(
        fresh_hub.hub_url("signup"), timeout=10).text

    r = signup(fresh_hub, "admin", setup_code=code.lower())  # case and dashes do not matter
    assert r.status_code == 200 and "you can sign in now" in r.text, r.text[:500]
    assert try_sign_in(fresh_hub, "admin").status_code == 302
    assert not fresh_hub.setup_code()
    none = cli(fresh_hub, "dshub-setup-code")
    assert none.returncode == 1 and "No setup code" in none.stderr

    # The account disappears (an admin deleted it): the old code does not open the door again.
    assert fresh_hub.api("DELETE", "users/admin").status_code == 204
    r = signup(fresh_hub, "admin", setup_code=code)
    assert r.status_code == 403 and try_sign_in(fresh_hub, "admin").status_code != 302
    # The operator's way in from a shell is unchanged.
    made = cli(fresh_hub, "dshub-add-user", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert try_sign_in(fresh_hub, "admin").status_code == 302


def test_pending_sign_ups_are_capped(fresh_hub):
    for name in ("waiting1", "waiting2"):
        r = signup(fresh_hub, name)
        assert r.status_code == 200 and "sent to the admin" in r.text
    r = signup(fresh_hub, "waiting3")
    assert r.status_code == 429
    assert "Too many sign-ups are waiting for an admin" in r.text
    # Nothing was stored: the name is still free, and its "password" is no account's.
    r = try_sign_in(fresh_hub, "waiting3")
    assert r.status_code == 200 and "not been approved" not in r.text
    # The admin is not counted and not capped (nor is an admin-created account).
    assert try_sign_in(fresh_hub, "admin").status_code == 302


def test_wrong_passwords_slow_the_address_down_but_never_lock_the_admin_out(fresh_hub):
    # Five failures are free; the next try from this address is refused without a check.
    statuses = []
    while 429 not in statuses:
        assert len(statuses) < 8, statuses
        statuses.append(try_sign_in(fresh_hub, "admin", "wrong-password-1").status_code)
    assert set(statuses) <= {200, 429}, statuses
    # The guessing address now waits, even with the right password (tried at once: the first
    # wait is 2 s) ...
    r = try_sign_in(fresh_hub, "admin")
    assert r.status_code == 429 and "Too many failed attempts from your address" in r.text
    # ... while the admin, from anywhere else, signs in at once.
    assert try_sign_in(fresh_hub, "admin", address="127.0.0.2").status_code == 302
    assert try_sign_in(fresh_hub, "admin", address="127.0.0.3").status_code == 302
