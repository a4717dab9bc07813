"""Dormant accounts on the real hub: an account quiet for long, with a running lab, is found by
the report (with its storage) and disabled from it: its lab stops, and its volumes stay, with
so enabling it gives everything back. Archived from the report instead, its account is deleted
and its volumes kept as archives (whatever DELETED_USER_VOLUMES says), never with a stolen
admin cookie without sudo mode."""

from __future__ import annotations

import pytest

from tests.integration.test_account_deletion import volumes_of
from tests.support.clients import Portal, ensure_running, try_sign_in, wait_state
from tests.support.dormant import dormant_names, idle_for

pytestmark = [pytest.mark.docker, pytest.mark.hub]


def test_a_dormant_disable_stops_the_lab_and_keeps_its_volumes(hub, admin, make_user,
                                                              docker_client):
    user = make_user("standindormant")
    ensure_running(user)
    volumes = set(volumes_of(docker_client, user.name))
    assert volumes
    idle_for(hub, user.name, 400)
    report = admin.get("portal/admin/dormant", params={"days": "365"})
    assert report.status_code == 200 and dormant_names(report.text) == [user.name], report.text
    r = admin.post("portal/admin/bulk", {"action": "disable", "scope": "selected",
                                         "user": [user.name]})
    assert r.status_code == 200 and "1 of 1 done" in r.text, r.text
    assert wait_state(admin, user.name, {"stopped"}) == "stopped"
    assert set(volumes_of(docker_client, user.name)) == volumes
    assert try_sign_in(hub, user.name).status_code == 403
    assert admin.post(f"portal/admin/accounts/{user.name}/enable").status_code == 200
    assert try_sign_in(hub, user.name).status_code == 302


def test_a_dormant_archive_needs_sudo_mode_and_keeps_the_volumes_as_archives(
        hub, admin, make_user, docker_client):
    user = make_user("standinarchivable")  # no hyphen: volume names escape it
    ensure_running(user)
    volumes = set(volumes_of(docker_client, user.name))
    assert volumes
    idle_for(hub, user.name, 400)
    form = {"days": "365", "user": [user.name]}
    stolen = Portal(hub, "admin")  # the admin's cookie, without the password again
    r = stolen.post("portal/admin/dormant/archive", form)
    assert r.status_code == 403 and "data-sudo" in r.text
    assert "Archiving (deleting) dormant accounts" in r.text
    assert hub.api("GET", f"users/{user.name}").status_code == 200
    assert set(volumes_of(docker_client, user.name)) == volumes
    archives: list = []
    try:
        r = admin.post("portal/admin/dormant/archive", form)  # the session admin: sudo mode
        assert r.status_code == 200 and "1 of 1 done" in r.text, r.text
        assert hub.api("GET", f"users/{user.name}").status_code == 404
        assert try_sign_in(hub, user.name).status_code != 302
        left = volumes_of(docker_client, user.name)
        archives = [name for name in left if ".archived-" in name]
        assert {name.split(".archived-")[0] for name in archives} == volumes
        assert not volumes & set(left)  # the originals went: a new account starts empty
        assert all(left[name]["dshub.owner"] == user.name for name in archives)
        [(actor, detail)] = hub.sql(
            "portal", "SELECT actor, detail FROM audit_events WHERE kind = 'account deleted'"
            " AND target = :t", t=user.name)
        assert actor == "admin" and detail.startswith("volumes archived")
    finally:
        for name in archives:
            docker_client.volumes.get(name).remove(force=True)
