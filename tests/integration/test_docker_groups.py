"""Docker-access groups: enforced at every start, re-created if deleted, admins only. Refused
changes and the admin's user search: tests/inprocess/test_groups.py."""

from __future__ import annotations

import time

import pytest

from tests.support.clients import card_state, ensure_running, ensure_stopped, wait_state
from tests.support.groups import change, members
from tests.support.hub import PREFIX, containers_named


def access(docker_client, name: str) -> tuple[bool, bool]:
    c = docker_client.containers.get(f"{PREFIX}jupyterlab-{name}")
    socket = any(m.get("Source") == "/var/run/docker.sock" for m in c.attrs["Mounts"])
    return socket, bool(c.attrs["HostConfig"]["Privileged"])




def test_members_get_socket_and_privilege_nonmembers_neither(hub, admin, make_user,
                                                             docker_client):
    member, bystander = make_user("standindocker"), make_user("standinbystander")
    for group in ("docker-sock", "docker-privileged"):
        r = change(admin, group, "add", member.name)
        assert r.status_code == 200, r.text
        assert f"{member.name} added to {group}" in r.text
    ensure_running(member)
    ensure_running(bystander)
    assert access(docker_client, member.name) == (True, True)
    assert access(docker_client, bystander.name) == (False, False)
    # Inside the lab the socket is the engine's.
    out = docker_client.containers.get(f"{PREFIX}jupyterlab-{member.name}").exec_run(
        ["test", "-S", "/var/run/docker.sock"])
    assert out.exit_code == 0

    # Removal: the card says a change waits; "Restart to apply" re-creates the container.
    for group in ("docker-sock", "docker-privileged"):
        assert change(admin, group, "remove", member.name).status_code == 200
    card = member.get(f"portal/users/{member.name}/card").text
    assert "Your Docker access changed" in card and "Restart to apply" in card
    assert access(docker_client, member.name) == (True, True)  # not before the restart
    old_id = docker_client.containers.get(f"{PREFIX}jupyterlab-{member.name}").id
    r = member.post(f"portal/users/{member.name}/recreate")
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        state = card_state(member.get(f"portal/users/{member.name}/card").text)
        containers = containers_named(docker_client, stopped_too=False)
        if state == "running" and containers.get(f"{PREFIX}jupyterlab-{member.name}") not in (
            None, old_id
        ):
            break
        time.sleep(0.5)
    assert wait_state(member, member.name, {"running"}) == "running"
    assert access(docker_client, member.name) == (False, False)
    assert "Your Docker access changed" not in member.get(f"portal/users/{member.name}/card").text

    page = admin.get("portal/admin/groups").text
    assert f"removed {member.name} from" in page and f"added {member.name} to" in page
    ensure_stopped(member)
    ensure_stopped(bystander)


def test_builtin_groups_cannot_be_deleted_through_the_rest_api(hub, make_user):
    user = make_user("keeper")
    r = hub.api("POST", "groups/docker-sock/users", json={"users": [user.name]})
    assert r.status_code == 200, r.text
    for group in ("docker-sock", "docker-privileged"):
        r = hub.api("DELETE", f"groups/{group}")
        assert r.status_code == 403, r.text
        assert "built-in group" in r.json()["message"]
        assert hub.api("GET", f"groups/{group}").status_code == 200
    assert user.name in members(hub, "docker-sock")
    # Other groups are the hub's business as before.
    assert hub.api("POST", "groups/plain-team").status_code == 201
    assert hub.api("DELETE", "groups/plain-team").status_code == 204


def events_about(hub, target: str) -> list[tuple]:
    return hub.sql("portal", "SELECT actor, kind, detail, at FROM audit_events"
                   " WHERE target = :target ORDER BY id", target=target)


def test_membership_changes_through_the_rest_api_are_in_the_event_log(hub, admin, make_user):
    user = make_user("restmember")
    for method in ("POST", "DELETE"):
        r = hub.api(method, "groups/docker-privileged/users", json={"users": [user.name]})
        assert r.status_code == 200, r.text
    events = [(actor, kind, detail) for actor, kind, detail, at in events_about(hub, user.name)
              if at]
    assert ("test-driver (service)", "group change",
            "added to docker-privileged (hub REST API)") in events
    assert ("test-driver (service)", "group change",
            "removed from docker-privileged (hub REST API)") in events
    # The Docker-access history in the admin area shows them too.
    page = admin.get("portal/admin/groups").text
    assert f"added {user.name} to" in page and f"removed {user.name} from" in page
    assert "test-driver (service)" in page


def test_a_member_added_just_before_a_deletion_from_outside_the_hub_is_kept(hub, make_user):
    user = make_user("latecomer")
    r = hub.api("POST", "groups/docker-sock/users", json={"users": [user.name]})
    assert r.status_code == 200, r.text
    # At once (well within the guard's 2 s poll), straight in the hub's database.
    hub.sql("hub", "DELETE FROM groups WHERE name = 'docker-sock'")
    deadline = time.monotonic() + 15
    while hub.api("GET", "groups/docker-sock").status_code != 200:
        assert time.monotonic() < deadline, "docker-sock was not re-created"
        time.sleep(0.2)
    assert user.name in members(hub, "docker-sock")
    assert "re-created it with members" in hub.log_path.read_text()


@pytest.mark.parametrize("action", ["add", "remove"])
def test_non_admin_cannot_change_membership(hub, make_user, action, admin):
    user, target = make_user("plain"), make_user("target")
    if action == "remove":
        assert change(admin, "docker-privileged", "add", target.name).status_code == 200
    before = members(hub, "docker-privileged")
    r = change(user, "docker-privileged", action, target.name)
    assert r.status_code in (403, 404)
    assert user.get("portal/admin/groups").status_code in (403, 404)
    assert members(hub, "docker-privileged") == before
    r = user.post(f"portal/admin/groups/docker-privileged/{action}", {"username": target.name},
                  xsrf=False)
    assert r.status_code == 403
    assert members(hub, "docker-privileged") == before
