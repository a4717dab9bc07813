"""Dormant accounts on the real hub: an account quiet for long, with a running lab, is found by
the report (with its storage) and disabled from it: its lab stops, and its volumes stay, with
so enabling it gives everything back."""

from __future__ import annotations

import pytest

from tests.integration.test_account_deletion import volumes_of
from tests.support.clients import ensure_running, try_sign_in, wait_state
from tests.support.dormant import dormant_names, idle_for

pytestmark = [pytest.mark.docker, pytest.mark.hub]


def test_a_dormant_disable_stops_the_lab_and_keeps_its_volumes(hub, admin, make_user,
                                                              docker_client):
    user = make_user("dormant")
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
