"""The audit feed in process: filters, exports, the admin section, who may read it, and what
sign-ups and approvals record. The recording of an action end to end stays on the real hub
(tests/integration/test_audit.py)."""

from __future__ import annotations

import csv
import io

from tests.support.audit import audit, audit_api


def test_exports_and_the_admin_section(admin, make_user, hub):
    user = make_user("exported")
    admin.post("portal/admin/groups/docker-privileged/add", {"username": user.name})
    r = audit_api(hub, user=user.name, format="csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["detail"] for row in rows} >= {"added to docker-privileged"}
    assert set(rows[0]) == {"id", "at", "actor", "kind", "target", "detail", "ok"}

    page = admin.get(f"portal/admin/audit?user={user.name}")
    assert page.status_code == 200
    assert "added to docker-privileged" in page.text and "<table" in page.text


def test_bad_filters_are_a_readable_400(hub, admin):
    r = audit_api(hub, kind="everything")
    assert r.status_code == 400
    assert r.json()["message"].startswith("Unknown kind 'everything'")
    r = audit_api(hub, since="yesterday")
    assert r.status_code == 400 and "since must be a date" in r.json()["message"]
    r = admin.get("portal/admin/audit?limit=-1")
    assert r.status_code == 400 and "limit must be a whole number" in r.text


def test_only_admins_read_the_audit(make_user, hub):
    user = make_user("curious")
    r = user.s.get(hub.hub_url("api/users"), timeout=10)  # warms the session's cookies
    assert r.status_code in (200, 403)
    assert user.get("portal/admin/audit").status_code == 403
    r = user.s.get(hub.hub_url("portal/api/audit"), timeout=10,
                   headers={"X-XSRFToken": user.xsrf})
    assert r.status_code == 403


def test_an_approval_is_recorded(hub, admin):
    from tests.support.clients import signup

    assert signup(hub, "approvee").status_code == 200
    r = admin.post("portal/admin/signups/approvee/approve")
    assert r.status_code == 200, r.text
    (event,) = audit(hub, user="approvee", kind="account approved")
    assert (event["actor"], event["detail"], event["ok"]) == ("admin", "sign-up approved", True)


def test_a_sign_up_is_recorded_and_a_refused_one_is_not(hub, admin):
    """Through the real sign-up form; the admin reads the audit API with their session."""
    from tests.support.clients import PASSWORD, signup

    assert signup(hub, "selfsigned").status_code == 200
    assert signup(hub, "selfsigned").status_code == 409  # the name is taken now
    assert signup(hub, "weakling", password="abc").status_code == 400  # too short
    r = admin.s.get(hub.hub_url("portal/api/audit"), params={"user": "selfsigned"}, timeout=30,
                    headers={"X-XSRFToken": admin.xsrf})
    assert r.status_code == 200, r.text
    events = [(e["actor"], e["kind"], e["target"], e["detail"], e["ok"])
              for e in r.json()["events"]]
    assert events == [("selfsigned", "sign-up", "selfsigned",
                       "self sign-up, waiting for an admin's approval", True)]
    assert PASSWORD not in r.text
    assert audit(hub, user="weakling") == []  # refused sign-ups record nothing
