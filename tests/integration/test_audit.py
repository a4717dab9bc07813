"""The audit feed on the real hub: an action lands in it with who and what, and its filters
combine. The rest of the feed (exports, bad filters, readers, sign-ups, approvals) is tested in
process: tests/inprocess/test_audit.py."""

from __future__ import annotations

from tests.support.audit import audit


def test_group_change_and_account_creation_are_recorded_with_who_and_what(admin, make_user, hub):
    user = make_user("audited")
    r = admin.post("portal/admin/groups/docker-sock/add", {"username": user.name})
    assert r.status_code == 200, r.text
    admin.post("portal/admin/groups/docker-sock/remove", {"username": user.name})

    mine = audit(hub, user=user.name)
    kinds = [(e["actor"], e["kind"], e["detail"]) for e in mine]
    assert kinds[0] == ("admin", "group change", "removed from docker-sock")  # newest first
    assert ("admin", "group change", "added to docker-sock") in kinds
    assert ("admin", "account created", "created by an admin") in kinds
    assert all(e["ok"] and e["at"] for e in mine)

    # Filters combine: only this user's group changes.
    changes = audit(hub, user=user.name, kind="group change")
    assert [e["detail"] for e in changes] == ["removed from docker-sock", "added to docker-sock"]
    assert audit(hub, user=user.name, actor="nobody-did-this") == []
    assert audit(hub, user=user.name, since="2999-01-01") == []
