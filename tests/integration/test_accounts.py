"""Accounts on the real hub, attacked: a disabled account's old cookie and token, a temporary
password used twice or used to reach anything but the new-password page, a reset by a
non-admin, and resets or enables of accounts holding host power without sudo mode. Forms and
refusals one by one are in tests/inprocess/test_accounts.py."""

from __future__ import annotations

import itertools
import re

import requests

from tests.integration.test_account_deletion import volumes_of
from tests.support.clients import PASSWORD, Portal, ensure_running, try_sign_in, wait_state

NEW = "Accounts-new-pw-2026"
# Sign-ins from loopback addresses of their own: failures here never slow other tests down.
_addresses = (f"127.0.0.{n}" for n in itertools.count(120))


def sign_in(hub, name: str, password: str = PASSWORD) -> requests.Response:
    return try_sign_in(hub, name, password, address=next(_addresses))


def temporary_password(html: str) -> str:
    found = re.findall(r'<code class="temporary-password"[^>]*>([^<]+)</code>', html)
    assert found, html[:500]
    return found[0]


def with_token(hub, token: str, path: str) -> requests.Response:
    return requests.get(hub.hub_url(path), headers={"Authorization": f"token {token}"},
                        timeout=30)


def test_a_disabled_account_loses_its_cookie_token_and_server_but_keeps_its_volumes(
        hub, admin, make_user, docker_client):
    user = make_user("standingone")
    r = user.s.post(user.url(f"api/users/{user.name}/tokens"), json={"note": "script"},
                    headers={"X-XSRFToken": user.xsrf}, timeout=30)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert with_token(hub, token, "api/user").status_code == 200
    ensure_running(user)
    volumes = set(volumes_of(docker_client, user.name))
    assert volumes

    r = admin.post(f"portal/admin/accounts/{user.name}/disable")
    assert r.status_code == 200 and re.search(r"[1-9]\d* tokens? revoked", r.text), r.text
    assert wait_state(admin, user.name, {"stopped"}) == "stopped"
    assert set(volumes_of(docker_client, user.name)) == volumes
    # The old cookie signs nobody in, the old token opens nothing, nor does the password.
    old = user.s.get(user.url("portal"), allow_redirects=False, timeout=10)
    assert old.status_code == 302 and "login" in old.headers["Location"]
    assert user.s.get(user.url("api/user"), timeout=10).status_code == 403
    assert with_token(hub, token, "api/user").status_code == 403
    refused = sign_in(hub, user.name)
    assert refused.status_code == 403 and f"The account {user.name} is disabled" in refused.text
    assert "disabled" not in sign_in(hub, user.name, "a-wrong-password").text
    # Enabled: the password works again; revoked tokens stay revoked.
    assert admin.post(f"portal/admin/accounts/{user.name}/enable").status_code == 200
    assert sign_in(hub, user.name).status_code == 302
    assert with_token(hub, token, "api/user").status_code == 403
    kinds = hub.sql("portal", "SELECT kind, actor FROM audit_events WHERE target = :t"
                    " AND kind LIKE 'account %abled' ORDER BY id", t=user.name)
    assert kinds == [("account disabled", "admin"), ("account enabled", "admin")]


def test_a_temporary_password_works_once_opens_only_the_new_password_page(hub, admin,
                                                                          make_user):
    user, bystander = make_user("reset"), make_user("notadmin")
    r = bystander.post(f"portal/admin/accounts/{user.name}/reset-password")
    assert r.status_code == 403
    assert sign_in(hub, user.name).status_code == 302  # the bystander changed nothing
    r = admin.post(f"portal/admin/accounts/{user.name}/reset-password")
    assert r.status_code == 200, r.text
    temporary = temporary_password(r.text)
    assert temporary not in hub.log_path.read_text()
    assert temporary not in str(hub.sql("portal", "SELECT detail FROM audit_events"))
    assert sign_in(hub, user.name).status_code != 302  # the old password is gone

    locked = Portal(hub, user.name, temporary)
    assert sign_in(hub, user.name, temporary).status_code != 302  # once only
    for path in ("portal", "home", "token", "portal/account", "portal/admin"):
        r = locked.s.get(locked.url(path), allow_redirects=False, timeout=10)
        assert r.status_code == 302, (path, r.status_code)
        assert r.headers["Location"].endswith("/portal/account/new-password"), path
    r = locked.s.post(locked.url(f"api/users/{user.name}/tokens"), json={},
                      headers={"X-XSRFToken": locked.xsrf}, timeout=30)
    assert r.status_code == 403 and "choose a new one" in r.json()["message"]
    r = locked.post(f"portal/users/{user.name}/start")
    assert r.status_code == 403
    r = locked.post("portal/account/new-password", {"new_password": NEW, "confirmation": NEW})
    assert r.status_code == 200, r.text
    assert locked.s.get(locked.url("portal"), allow_redirects=False,
                        timeout=10).status_code == 200
    assert sign_in(hub, user.name, NEW).status_code == 302
    assert sign_in(hub, user.name, temporary).status_code != 302


def test_resetting_or_enabling_an_account_with_host_power_needs_sudo_mode(hub, admin,
                                                                         make_user):
    member = make_user("sockreset")
    assert hub.api("POST", "groups/docker-sock/users",
                   json={"users": [member.name]}).status_code == 200
    try:
        unconfirmed = Portal(hub, "admin")  # the admin's cookie, without the password again
        for path, data in ((f"portal/admin/accounts/{member.name}/reset-password", {}),
                           ("portal/admin/bulk", {"action": "reset-password",
                                                  "user": member.name, "scope": "selected"})):
            r = unconfirmed.post(path, data)
            assert r.status_code == 403 and "data-sudo" in r.text, (path, r.status_code)
            assert "host power" in r.text or "grants power over the host" in r.text
        assert sign_in(hub, member.name).status_code == 302  # nothing was reset
        assert admin.post(f"portal/admin/accounts/{member.name}/disable").status_code == 200
        r = unconfirmed.post(f"portal/admin/accounts/{member.name}/enable")
        assert r.status_code == 403 and "data-sudo" in r.text
        assert sign_in(hub, member.name).status_code == 403  # still disabled
        # The password sent with the action (the portal's dialog) opens sudo mode and acts.
        r = unconfirmed.post(f"portal/admin/accounts/{member.name}/enable",
                             {"sudo_password": PASSWORD})
        assert r.status_code == 200 and "can sign in again" in r.text
        r = unconfirmed.post(f"portal/admin/accounts/{member.name}/reset-password")
        assert r.status_code == 200 and temporary_password(r.text)
    finally:
        hub.api("DELETE", "groups/docker-sock/users", json={"users": [member.name]})
