"""Attacks on the session cookie after a session was revoked, on the real hub.

The hub finds a request's user from its session cookie with one query and, for a user it holds,
no reload of the user's relationships (portal/compat/cookie_lookup.py). A cookie must still be
checked against the database on every request: a user held in memory whose session was revoked
(`cookie_id` rotated, straight in the database) or who was deleted is refused with the old
cookie, and each cookie answers as its own user.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.clients import Portal

pytestmark = pytest.mark.hub


def stolen(client: Portal) -> requests.Session:
    """Another browser holding a copy of `client`'s cookies."""
    thief = requests.Session()
    thief.cookies.update(client.s.cookies)
    return thief


def page_as(session: requests.Session, client: Portal) -> requests.Response:
    return session.get(client.url("portal"), allow_redirects=False, timeout=30)


def refused(r: requests.Response) -> bool:
    return r.status_code == 302 and "login" in r.headers["Location"]


def test_each_cookie_answers_as_its_own_user(make_user):
    ann, bo = make_user("cookie-ann"), make_user("cookie-bo")
    for client, other in ((ann, bo), (bo, ann)):
        r = page_as(client.s, client)
        assert r.status_code == 200 and client.name in r.text and other.name not in r.text


def test_a_session_revoked_in_the_database_is_refused_though_its_user_is_held(hub, make_user):
    user = make_user("revoked")
    copy = stolen(user)
    assert page_as(copy, user).status_code == 200  # the hub now holds the user in memory
    hub.sql("hub", "UPDATE users SET cookie_id = :fresh WHERE name = :name",
            fresh=uuid.uuid4().hex, name=user.name)
    assert refused(page_as(copy, user))
    assert refused(page_as(user.s, user))


def test_a_deleted_users_cookie_is_refused_and_does_not_open_a_new_account_of_that_name(
        hub, make_user):
    user = make_user("deleted")
    copy = stolen(user)
    assert page_as(copy, user).status_code == 200
    assert hub.api("DELETE", f"users/{user.name}").status_code == 204
    assert refused(page_as(copy, user))
    assert hub.api("POST", f"users/{user.name}").status_code == 201
    assert refused(page_as(copy, user))
