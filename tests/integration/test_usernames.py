"""User names that would break URLs, logs or paths are refused: once end to end, through the
real hub's sign-up form. Every other name and the account-creation form:
tests/inprocess/test_usernames.py."""

from __future__ import annotations

import pytest

from tests.support.clients import signup

pytestmark = pytest.mark.hub


def test_sign_up_refuses_a_name_with_a_slash(hub):
    r = signup(hub, "a/b")
    assert r.status_code == 400, r.text[:300]
    assert "A user name has 1 to 128 characters, without spaces, control characters" in r.text
