"""User names that would break URLs, logs or paths are refused at sign-up and at creation.

In process: the handlers and the name rule need no Docker. One refusal through the real hub's
sign-up form stays in tests/integration/test_usernames.py.
"""

from __future__ import annotations

import pytest
import requests

from tests.support.clients import PASSWORD, signup

BAD = ["two words", "tab\tname", "new\nline", "car\rriage", "be\x07ll", "esc\x1b[31m",
       "nu\x00ll", "a/b", "a&b", "a?b", "a#b", "a%2fb", "zero\u200bwidth", "nbsp\u00a0name",
       "comma,name", "x" * 129]


@pytest.mark.parametrize("name", BAD, ids=repr)
def test_sign_up_refuses_the_name(hub, name):
    r = signup(hub, name)
    assert r.status_code == 400, r.text[:300]
    assert "A user name has 1 to 128 characters, without spaces, control characters" in r.text


@pytest.mark.parametrize("name", BAD, ids=repr)
def test_account_creation_refuses_the_name(admin, name):
    r = admin.post("portal/admin/users", {"username": name, "password": PASSWORD})
    assert r.status_code == 400 and "control characters" in r.text, r.text[:300]


def test_the_rule_is_on_the_sign_up_form(hub):
    page = requests.get(hub.hub_url("signup"), timeout=10).text
    assert "without spaces, control characters or any of , / &amp; ? # %" in page
    assert 'id="username_input"' in page and "pattern=" in page


def test_ordinary_names_still_sign_up(hub):
    for name in ("ok-mary-ann", "ok.j_doe2", "okzoë"):
        r = signup(hub, name)
        assert r.status_code == 200 and "sent to the admin" in r.text, r.text[:300]
