"""Sudo mode: a script holding an admin's session cookie, but not the password, grants nothing.

Each test signs the admin in afresh (the session fixture `admin` is in sudo mode already).
"""

from __future__ import annotations

import pytest

from tests.support.clients import PASSWORD, Portal


def members(hub, group: str) -> list[str]:
    return hub.api("GET", f"groups/{group}").json()["users"]


def is_admin(hub, name: str) -> bool:
    return hub.api("GET", f"users/{name}").json()["admin"]


def rest(session: Portal, method: str, path: str, body: dict | None = None):
    """The hub's own REST API with the browser session's cookie and XSRF token."""
    return session.s.request(method, session.hub.hub_url(f"api/{path}"), json=body,
                             headers={"X-XSRFToken": session.xsrf}, timeout=30)


@pytest.fixture
def cookie_only(hub):
    """The admin's session as a script that stole the cookie (and the page's XSRF token)."""
    return Portal(hub, "admin")


@pytest.mark.parametrize("group", ["docker-sock", "docker-privileged"])
def test_portal_grant_asks_for_the_password_and_proceeds_with_it(hub, make_user, cookie_only,
                                                                 group):
    target = make_user("granted")
    r = cookie_only.post(f"portal/admin/groups/{group}/add", {"username": target.name})
    assert r.status_code == 403
    assert r.headers["X-Portal-Sudo"] == "required"
    assert r.headers["HX-Retarget"] == "#portal-modal"
    assert "Confirm your password" in r.text and 'name="sudo_password"' in r.text
    assert f'value="{target.name}"' in r.text  # the dialog sends the same action again
    assert target.name not in members(hub, group)

    r = cookie_only.post(f"portal/admin/groups/{group}/add",
                         {"username": target.name, "sudo_password": "not-the-password"})
    assert r.status_code == 403 and "not right" in r.text
    assert target.name not in members(hub, group)

    r = cookie_only.post(f"portal/admin/groups/{group}/add",
                         {"username": target.name, "sudo_password": PASSWORD})
    assert r.status_code == 200, r.text
    assert f"{target.name} added to {group}" in r.text
    assert target.name in members(hub, group)
    # Confirmed: the next grant in this session within the window asks nothing.
    other = make_user("granted")
    r = cookie_only.post(f"portal/admin/groups/{group}/add", {"username": other.name})
    assert r.status_code == 200 and other.name in members(hub, group)
    # Another session of the same admin is not confirmed by this one.
    r = Portal(hub, "admin").post(f"portal/admin/groups/{group}/remove",
                                  {"username": other.name})
    assert r.status_code == 200  # removing grants nothing: no password needed
    hub.api("DELETE", f"groups/{group}/users", json={"users": [target.name]})


def test_hub_rest_api_grants_need_sudo_with_a_cookie(hub, make_user, cookie_only):
    target = make_user("restgrant")
    attempts = [
        ("POST", "groups/docker-sock/users", {"users": [target.name]}),
        ("POST", "groups/docker-privileged/users", {"users": [target.name]}),
        ("PATCH", f"users/{target.name}", {"admin": True}),
        ("POST", "users/sudo-new-admin", {"admin": True}),
        ("POST", "users", {"usernames": ["sudo-new-admin2"], "admin": True}),
        ("POST", "users/admin/tokens", {"note": "from a stolen session"}),
    ]
    for method, path, body in attempts:
        r = rest(cookie_only, method, path, body)
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert "/hub/portal/api/sudo" in r.json()["message"], r.text
    assert target.name not in members(hub, "docker-sock")
    assert target.name not in members(hub, "docker-privileged")
    assert not is_admin(hub, target.name)
    for name in ("sudo-new-admin", "sudo-new-admin2"):
        assert hub.api("GET", f"users/{name}").status_code == 404
    # What grants nothing still works with the cookie alone.
    assert rest(cookie_only, "PATCH", f"users/{target.name}", {"admin": False}).status_code == 200

    # A wrong password confirms nothing; the right one opens the window for this session.
    r = cookie_only.confirm_sudo("not-the-password")
    assert r.status_code == 403
    assert rest(cookie_only, "PATCH", f"users/{target.name}", {"admin": True}).status_code == 403
    r = cookie_only.confirm_sudo()
    assert r.status_code == 200 and r.json()["confirmed"] is True
    r = rest(cookie_only, "POST", "groups/docker-sock/users", {"users": [target.name]})
    assert r.status_code == 200, r.text
    r = rest(cookie_only, "PATCH", f"users/{target.name}", {"admin": True})
    assert r.status_code == 200 and is_admin(hub, target.name)
    assert target.name in members(hub, "docker-sock")
    hub.api("PATCH", f"users/{target.name}", json={"admin": False})
    hub.api("DELETE", "groups/docker-sock/users", json={"users": [target.name]})


def test_token_requests_need_no_sudo(hub, make_user):
    target = make_user("tokengrant")
    r = hub.api("POST", "groups/docker-sock/users", json={"users": [target.name]})
    assert r.status_code == 200, r.text
    hub.api("DELETE", "groups/docker-sock/users", json={"users": [target.name]})
    r = hub.api("POST", "users/admin/tokens", json={"note": "driver"})
    assert r.status_code == 201, r.text
