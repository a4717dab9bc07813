"""Sign-ups cannot take, or look like, an existing account (real hub).

A hub user made through the REST API (or the hub's admin page) has no NativeAuthenticator row:
a sign-up under that name used to be accepted, approving it handed the account (an admin, a
docker-sock member) to a stranger, and rejecting it deleted the real user. Names that differ only
by NFKC normalisation or a confusable letter (Unicode TR39 skeleton) used to register as separate
accounts that look the same.
"""

from __future__ import annotations

import itertools
import unicodedata

import pytest

from tests.support.clients import PASSWORD, signup

pytestmark = pytest.mark.hub

_n = itertools.count()


def fresh(base: str) -> str:
    return f"{base}{next(_n)}x"


def hub_user(hub, name: str) -> dict | None:
    r = hub.api("GET", f"users/{name}")
    return r.json() if r.status_code == 200 else None


def sign_up_rows(hub, name: str) -> list[tuple]:
    return hub.sql("hub", "SELECT is_authorized FROM users_info WHERE username = :n", n=name)


def test_a_sign_up_cannot_take_a_hub_user_that_has_no_password(hub):
    name = fresh("restuser")
    r = hub.api("POST", f"users/{name}")
    assert r.status_code == 201, r.text
    r = signup(hub, name)
    assert r.status_code == 409, r.text[:300]
    assert "already an account" in r.text
    assert sign_up_rows(hub, name) == []
    assert hub_user(hub, name) is not None


def test_reject_keeps_and_approve_refuses_a_hub_user_created_after_the_sign_up(hub, admin):
    # The REST API does not look at NativeAuthenticator's table: a hub user of the same name
    # can appear while the sign-up waits.
    rejected, approved = fresh("waitrej"), fresh("waitapp")
    for name in (rejected, approved):
        assert signup(hub, name).status_code == 200
        assert hub.api("POST", f"users/{name}").status_code == 201
    r = admin.post(f"portal/admin/signups/{rejected}/reject")
    assert r.status_code == 200, r.text[:300]
    assert hub_user(hub, rejected) is not None, "rejecting a sign-up deleted the real user"
    assert sign_up_rows(hub, rejected) == []
    r = admin.post(f"portal/admin/signups/{approved}/approve")
    assert r.status_code == 409, r.text[:300]
    assert "already an account" in r.text
    assert sign_up_rows(hub, approved) == [(False,)]
    admin.post(f"portal/admin/signups/{approved}/reject")
    assert hub_user(hub, approved) is not None


def test_the_approval_list_says_when_a_name_resembles_an_account(hub, admin):
    pending = fresh("lookalike")
    assert signup(hub, pending).status_code == 200
    twin = pending.replace("o", "\u043e")  # Cyrillic o, made through the REST API meanwhile
    assert hub.api("POST", f"users/{twin}").status_code == 201
    page = admin.get("portal/admin/signups").content.decode()
    row = page[page.index(f'data-signup="{pending}"'):]
    row = row[:row.index("</tr>")]
    assert "resembles" in row and twin in row, row
    admin.post(f"portal/admin/signups/{pending}/reject")


@pytest.mark.parametrize("twin", [
    "\u0430dmin",  # Cyrillic a
    "\uff41dmin",  # fullwidth a (NFKC)
    "ADMIN",  # case
    "adm\u0456n",  # Cyrillic i
], ids=repr)
def test_a_look_alike_of_the_admin_cannot_sign_up(hub, twin):
    r = signup(hub, twin)
    assert r.status_code == 409, r.text[:300]
    assert "admin" in r.text and "looks like" in r.text or "already an account" in r.text
    if twin.lower() != "admin":
        assert sign_up_rows(hub, twin.lower()) == []


def test_an_nfd_twin_of_an_account_cannot_sign_up(hub, admin):
    name = unicodedata.normalize("NFC", fresh("ren\u00e9e"))
    r = admin.post("portal/admin/users", {"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text[:300]
    twin = unicodedata.normalize("NFD", name)
    assert twin != name
    r = signup(hub, twin)
    assert r.status_code == 409, r.text[:300]
    assert sign_up_rows(hub, twin) == []


def test_admins_cannot_create_a_look_alike_either(admin):
    r = admin.post("portal/admin/users", {"username": "\u0430dmin", "password": PASSWORD})
    assert r.status_code == 409, r.text[:300]
    assert "looks like" in r.text
