"""Restart and volume reset from the portal, and who may do what (real hub + real Docker).
The volumes dialog and its sizes: tests/inprocess/test_volumes.py."""

from __future__ import annotations

import subprocess

import docker
import pytest
import requests

from tests.support.clients import (
    Portal,
    card_state,
    ensure_running,
    ensure_stopped,
    user_path,
    wait_state,
)
from tests.support.hub import PREFIX, containers_named


def sh(container: str, script: str) -> str:
    out = subprocess.run(["docker", "exec", container, "sh", "-c", script],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def test_restart_keeps_container_and_workspace_and_lab_answers_again(make_user, docker_client,
                                                                     hub):
    user = make_user("restart")
    ensure_running(user)
    name = f"{PREFIX}jupyterlab-{user.name}"
    before = docker_client.containers.get(name).id
    sh(name, "echo survived > /home/lab/workspace/note.txt")

    r = user.post(f"portal/users/{user.name}/restart")
    assert r.status_code == 200 and card_state(r.text) == "restarting"
    assert wait_state(user, user.name, {"running", "failed"}) == "running"

    assert docker_client.containers.get(name).id == before
    assert sh(name, "cat /home/lab/workspace/note.txt") == "survived"
    r = user.s.get(f"{hub.url}user/{user.name}/lab", timeout=30)
    assert r.status_code == 200 and "JupyterLab" in r.text


def test_reset_workspace_only_keeps_home_shared_and_other_users(make_user, docker_client):
    user, neighbour = make_user("standinreset"), make_user("standinneighbour")
    for p in (user, neighbour):
        ensure_running(p)
    mine, theirs = (f"{PREFIX}jupyterlab-{p.name}" for p in (user, neighbour))
    sh(mine, "echo w > /home/lab/workspace/w.txt; echo h > /home/lab/h.txt;"
             " echo s > /mnt/shared/s-$(hostname).txt; echo s > /mnt/shared/shared.txt")
    sh(theirs, "echo n > /home/lab/workspace/n.txt")
    ensure_stopped(user)
    ensure_stopped(neighbour)

    # Refused while the server runs, and for anything that is not one of the user's volumes.
    for bad in (["jupyterhub_shared"], [f"{PREFIX}shared"], ["shared"],
                [f"{PREFIX}jupyterlab-{neighbour.name}_workspace"], [], ["home", "bogus"]):
        r = user.post(f"portal/users/{user.name}/volumes/reset",
                      {"volume": bad, "confirm": "yes"})
        assert r.status_code == 400, (bad, r.text)
        assert "portal-error" in r.text
    r = user.post(f"portal/users/{user.name}/volumes/reset", {"volume": ["workspace"]})
    assert r.status_code == 400 and "confirm" in r.text

    r = user.post(f"portal/users/{user.name}/volumes/reset",
                  {"volume": ["workspace"], "confirm": "yes"})
    assert r.status_code == 200, r.text
    assert "Reset: workspace" in r.text

    volumes = {v.name for v in docker_client.volumes.list()}
    assert f"{mine}_workspace" not in volumes
    assert {f"{mine}_home", f"{mine}_cache", f"{PREFIX}shared",
            f"{theirs}_workspace", f"{theirs}_home"} <= volumes

    ensure_running(user)
    ensure_running(neighbour)
    assert sh(mine, "ls /home/lab/workspace") == ""
    assert sh(mine, "cat /home/lab/h.txt") == "h"
    assert sh(mine, "cat /mnt/shared/shared.txt") == "s"
    assert sh(theirs, "cat /home/lab/workspace/n.txt") == "n"


def test_running_server_cannot_be_reset_and_stopped_one_cannot_restart(make_user, docker_client):
    user = make_user("standinrules")
    ensure_running(user)
    r = user.post(f"portal/users/{user.name}/volumes/reset",
                  {"volume": ["cache"], "confirm": "yes"})
    assert r.status_code == 409 and "Stop the server" in r.text
    volumes = {v.name for v in docker_client.volumes.list()}
    assert f"{PREFIX}jupyterlab-{user.name}_cache" in volumes
    ensure_stopped(user)
    r = user.post(f"portal/users/{user.name}/restart")
    assert r.status_code == 409 and "start it instead" in r.text


# --- who may do what -------------------------------------------------------------------------

ANON, OTHER, OWNER, ADMIN = "anonymous", "another user", "owner", "admin"
TOKEN = "owner's token without server scopes"


@pytest.fixture(scope="module")
def cast(hub, admin, make_user):
    owner, other = make_user("standinowner"), make_user("other")
    ensure_running(owner)  # so the owner's volumes exist and a wrongful reset would show
    ensure_stopped(owner)
    anon = requests.Session()
    r = hub.api("POST", f"users/{owner.name}/tokens", json={"scopes": ["read:users!user"]})
    assert r.status_code == 201, r.text
    weak = requests.Session()
    weak.headers["Authorization"] = f"token {r.json()['token']}"
    return {ANON: anon, OTHER: other, OWNER: owner, ADMIN: admin, TOKEN: weak}, owner


# (method, path under /hub/ with {owner}, form data, expected status per role)
# The owner's server is stopped, so allowed state changes answer 409/400 and change nothing.
# Without a session a portal POST is answered like a GET: 401 with HX-Redirect to the login
# page (the XSRF check waits for a session). The hub accepts tokens on its API routes only: on
# HTML pages and fragments a token is no sign-in (401). The JSON API answers 403.
TABLE = [
    ("GET", "portal", None, {ANON: 302, OTHER: 200, OWNER: 200, ADMIN: 200}),
    ("GET", "portal/users/{owner}/card", None,
     {ANON: 401, OTHER: 404, OWNER: 200, ADMIN: 200, TOKEN: 401}),
    ("GET", "portal/users/{owner}/volumes", None,
     {ANON: 401, OTHER: 404, OWNER: 200, ADMIN: 200, TOKEN: 401}),
    ("GET", "portal/users/{owner}/restart-confirm", None,
     {ANON: 401, OTHER: 404, OWNER: 200, ADMIN: 200}),
    ("POST", "portal/users/{owner}/start", {}, {ANON: 401, OTHER: 404}),
    ("POST", "portal/users/{owner}/stop", {},
     {ANON: 401, OTHER: 404, OWNER: 409, ADMIN: 409, TOKEN: 401}),
    ("POST", "portal/users/{owner}/recreate", {},
     {ANON: 401, OTHER: 404, OWNER: 409, ADMIN: 409, TOKEN: 401}),
    ("POST", "portal/users/{owner}/restart", {},
     {ANON: 401, OTHER: 404, OWNER: 409, ADMIN: 409}),
    ("POST", "portal/users/{owner}/volumes/reset", {"volume": ["home"]},
     {ANON: 401, OTHER: 404, OWNER: 400, ADMIN: 400, TOKEN: 401}),
    ("GET", "portal/admin/groups", None, {ANON: 401, OTHER: 403, OWNER: 403, ADMIN: 200}),
    ("POST", "portal/admin/groups/docker-sock/add", {"username": ""},
     {ANON: 401, OTHER: 403, OWNER: 403, ADMIN: 400, TOKEN: 401}),
    ("POST", "portal/admin/groups/docker-privileged/remove", {"username": ""},
     {ANON: 401, OTHER: 403, OWNER: 403, ADMIN: 400}),
    ("GET", "portal/admin/user-search?username=a", None,
     {ANON: 401, OTHER: 403, OWNER: 403, ADMIN: 200}),
    ("GET", "portal/admin", None, {ANON: 302, OTHER: 403, OWNER: 403, ADMIN: 200}),
    ("GET", "portal/admin/user-table", None, {ANON: 401, OTHER: 403, OWNER: 403, ADMIN: 200}),
    ("POST", "portal/admin/bulk", {"action": "stop", "user": "admin"},
     {ANON: 401, OTHER: 403, OWNER: 403, ADMIN: 200}),
    ("POST", "portal/admin/users", {"username": "x y", "password": "p"},
     {ANON: 401, OTHER: 403, OWNER: 403, ADMIN: 400}),
    ("GET", "portal/users/{owner}/start", None, {OWNER: 405, ADMIN: 405}),
    ("GET", "portal/users/{owner}/volumes/reset", None, {OWNER: 405, ADMIN: 405}),
    ("GET", "portal/users/nobody-here/card", None, {OWNER: 404, ADMIN: 404}),
    ("GET", "portal/api/users/{owner}/server", None,
     {ANON: 403, OTHER: 404, OWNER: 200, ADMIN: 200, TOKEN: 403}),
    ("GET", "portal/api/users/{owner}/volumes", None,
     {ANON: 403, OTHER: 404, OWNER: 200, ADMIN: 200}),
    ("POST", "portal/api/users/{owner}/server/restart", None,
     {ANON: 403, OTHER: 404, OWNER: 409, ADMIN: 409}),
    ("POST", "portal/api/users/{owner}/volumes/reset", None,
     {ANON: 403, OTHER: 404, OWNER: 400, ADMIN: 400, TOKEN: 403}),
]


def snapshot(client: docker.DockerClient, owner: str) -> tuple:
    containers = sorted(containers_named(client))
    volumes = sorted(v.name for v in client.volumes.list() if owner in v.name)
    return containers, volumes


def send(who, method: str, path: str, data, hub) -> requests.Response:
    if isinstance(who, Portal):
        if method == "GET":
            return who.get(path, htmx="/api/" not in path, allow_redirects=False)
        return who.post(path, data, allow_redirects=False)
    headers = {"HX-Request": "true"} if "/api/" not in path and path != "portal" and \
        path != "portal/admin" else {}
    return who.request(method, hub.hub_url(path), data=data, headers=headers,
                       allow_redirects=False, timeout=30)


@pytest.mark.parametrize("method,path,data,expected", TABLE,
                         ids=[f"{m} {p}" for m, p, _, _ in TABLE])
def test_permission_table(cast, hub, docker_client, method, path, data, expected):
    roles, owner = cast
    before = snapshot(docker_client, owner.name)
    for role, status in expected.items():
        r = send(roles[role], method, path.format(owner=user_path(owner.name)), data, hub)
        assert r.status_code == status, f"{role}: {method} {path} -> {r.status_code} {r.text[:200]}"
        if status == 401:
            assert "login" in r.headers.get("HX-Redirect", "")
        assert snapshot(docker_client, owner.name) == before, f"{role} changed state"
    assert card_state(owner.get(f"portal/users/{owner.name}/card").text) == "stopped"


def test_post_without_xsrf_token_is_refused(cast, docker_client):
    _, owner = cast
    ensure_stopped(owner)
    before = snapshot(docker_client, owner.name)
    r = owner.post(f"portal/users/{owner.name}/start", xsrf=False)
    assert r.status_code == 403
    r = owner.post(f"portal/users/{owner.name}/volumes/reset",
                   {"volume": ["home"], "confirm": "yes"}, xsrf=False)
    assert r.status_code == 403
    assert snapshot(docker_client, owner.name) == before


def test_token_without_the_scope_is_refused(cast, hub, docker_client):
    _, owner = cast
    ensure_stopped(owner)
    r = hub.api("POST", f"users/{owner.name}/tokens", json={"scopes": ["read:users!user"]})
    assert r.status_code == 201, r.text
    weak = {"Authorization": f"token {r.json()['token']}"}
    r = hub.api("POST", f"users/{owner.name}/tokens", json={"scopes": ["servers!user"]})
    strong = {"Authorization": f"token {r.json()['token']}"}
    before = snapshot(docker_client, owner.name)
    url = hub.hub_url(f"portal/api/users/{owner.name}/volumes/reset")
    body = {"json": {"volumes": ["home"], "confirm": True}, "timeout": 30}
    assert requests.post(url, headers=weak, **body).status_code == 403
    assert snapshot(docker_client, owner.name) == before
    r = requests.post(url, headers=strong, **body)
    assert r.status_code == 200, r.text
    assert r.json()["reset"] == ["home"]


def test_admin_table_lists_every_user_and_opens_their_card(cast):
    roles, owner = cast
    for who in (owner.name, roles[OTHER].name, "admin"):
        html = roles[ADMIN].get(f"portal/admin/user-table?q={who}").text
        assert f'<tr data-user="{who}"' in html
    card = roles[ADMIN].get(f"portal/users/{owner.name}/card")
    assert card.status_code == 200 and f'data-user="{owner.name}"' in card.text
