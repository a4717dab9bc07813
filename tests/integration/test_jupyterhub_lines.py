"""What differs between JupyterHub 5.5 and 6.x, on the real hub of the line installed.

CI runs this file on both lines (scripts/test.sh): sign-in through NativeAuthenticator (a 500
on 6.x without portal/compat/nativeauth.py), and the scope each server action needs.
"""

from __future__ import annotations

import jupyterhub
import requests

from portal.compat.scopes import START_SERVERS
from tests.support.clients import PASSWORD, ensure_stopped, signup, wait_state

ON_6 = jupyterhub.version_info >= (6,)


def login(hub, name: str, password: str) -> requests.Response:
    s = requests.Session()
    s.get(hub.hub_url("login"), timeout=10)
    return s.post(hub.hub_url("login"), allow_redirects=False, timeout=30, data={
        "username": name, "password": password, "_xsrf": s.cookies.get("_xsrf", "")})


def test_sign_in_answers_with_a_redirect_or_the_form_never_a_500(hub, admin):
    assert signup(hub, "lineuser").status_code == 200
    # Not yet approved: the login form again, saying so.
    r = login(hub, "lineuser", PASSWORD)
    assert r.status_code == 200 and "has not been approved" in r.text
    # Approved in the portal (a POST; the hub's GET /authorize/<name> changes nothing).
    assert admin.post("portal/admin/signups/lineuser/approve").status_code == 200
    r = login(hub, "lineuser", "not-the-password")
    assert r.status_code == 200 and "Invalid username or password" in r.text
    mark = hub.log_path.stat().st_size
    r = login(hub, "lineuser", PASSWORD)
    assert r.status_code == 302, f"sign-in answered {r.status_code}:\n{hub.log_tail()}"
    # What this sign-in logged (the session hub's log also holds other tests' refused starts):
    # no error from the login handler (NativeAuthenticator's statsd call on 6.x).
    with hub.log_path.open(errors="replace") as log:
        log.seek(mark)
        logged = log.read()
    assert "statsd" not in logged and "500 POST" not in logged, logged


def test_server_actions_need_the_lines_own_scopes(hub, make_user):
    user = make_user("scoped")
    assert ("start:servers" if ON_6 else "servers") == START_SERVERS
    # A token that may only start (6.x) or start and stop (5.5: no narrower scope exists).
    r = hub.api("POST", f"users/{user.name}/tokens",
                json={"scopes": [f"{START_SERVERS}!user={user.name}"], "expires_in": 300})
    assert r.status_code == 201, r.text
    token = r.json()["token"]

    def act(action: str) -> int:
        return requests.post(hub.hub_url(f"portal/api/users/{user.name}/server/{action}"),
                             headers={"Authorization": f"token {token}"}, timeout=90).status_code

    assert act("start") == 202
    assert wait_state(user, user.name, {"running", "failed"}) == "running"
    if ON_6:
        assert act("stop") == 403
        assert act("restart") == 403
        ensure_stopped(user)
    else:
        assert act("stop") == 202
        assert wait_state(user, user.name, {"stopped"}) == "stopped"
