"""Docker-access groups in process: a change naming no such user or group is refused and
changes nothing, and the admin's user search. What membership gives a lab, its event log,
re-creation and who may not change it stay on the real hub (tests/integration/
test_docker_groups.py)."""

from __future__ import annotations

from tests.support.groups import change, members


def test_unknown_user_or_group_is_refused(hub, admin):
    before = members(hub, "docker-sock")
    r = change(admin, "docker-sock", "add", "no-such-person")
    assert r.status_code == 404 and "There is no user named" in r.text
    r = change(admin, "wheel", "add", "admin")
    assert r.status_code == 404
    r = change(admin, "docker-sock", "add", "   ")
    assert r.status_code == 400
    assert members(hub, "docker-sock") == before


def test_user_search_lists_matching_names(admin, make_user):
    user = make_user("findme")
    r = admin.get("portal/admin/user-search", params={"username": "findm"})
    assert r.status_code == 200 and f'value="{user.name}"' in r.text
    r = admin.get("portal/admin/user-search", params={"username": "%"})
    assert r.status_code == 200 and "<option" not in r.text
