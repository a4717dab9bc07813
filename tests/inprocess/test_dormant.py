"""Dormant accounts in process: the report for N days chosen on the page (last activity,
storage), refusals in sentences, bulk disable and bulk archive from it (each account a line:
one active since the report, an admin or oneself refused), and the automatic
disable: off by default, an admin's setting, a pass that disables dormant accounts but never an
admin, audited by (hub). The real hub's attack (volumes kept): tests/integration/
test_dormant.py."""

from __future__ import annotations

from portal.admin.dormant import disable_dormant
from portal.audit.log import SYSTEM_ACTOR
from portal.servers.actions import HubActions
from tests.support.audit import audit
from tests.support.clients import try_sign_in
from tests.support.dormant import dormant_names, idle_for


def test_the_report_lists_accounts_quiet_for_n_days_and_disables_them(hub, admin, make_user):
    old, older, fresh = make_user("quiet"), make_user("quieter"), make_user("busy")
    idle_for(hub, old.name, 100)
    idle_for(hub, older.name, 400)
    r = admin.get("portal/admin/dormant", params={"days": "365"})
    assert r.status_code == 200, r.text
    assert older.name in dormant_names(r.text) and old.name not in dormant_names(r.text)
    names = dormant_names(admin.get("portal/admin/dormant", params={"days": "90"}).text)
    assert {old.name, older.name} <= set(names) and fresh.name not in names
    assert names.index(older.name) < names.index(old.name)  # the quietest first
    for bad, words in (("0", "between 1 and 3650"), ("x", "whole number")):
        r = admin.get("portal/admin/dormant", params={"days": bad})
        assert r.status_code == 400 and words in r.text
    assert fresh.get("portal/admin/dormant").status_code == 403
    # Bulk disable from the report: the table's bulk action, part 1's disable.
    r = admin.post("portal/admin/bulk", {"action": "disable", "scope": "selected",
                                         "user": [old.name, older.name]})
    assert r.status_code == 200 and "2 of 2 done" in r.text, r.text
    assert try_sign_in(hub, older.name).status_code == 403
    assert 'badge text-bg-danger">disabled' in admin.get(
        "portal/admin/dormant", params={"days": "90"}).text


def test_the_automatic_disable_is_an_admins_setting_and_spares_admins(hub, admin, make_user):
    app = hub.app
    runtime = app.tornado_settings["dshub_portal"]

    async def stop(user) -> None:
        await app.proxy.delete_user(user)
        await user.stop()

    def a_pass() -> list[str]:
        return hub.run(disable_dormant(app, runtime, HubActions(stop, stop, "", SYSTEM_ACTOR)))

    sleeper = make_user("sleeper")
    idle_for(hub, sleeper.name, 200)
    idle_for(hub, "admin", 200)
    try:
        assert a_pass() == []  # off by default
        r = admin.post("portal/admin/dormant", {"auto_days": "99999", "days": "90"})
        assert r.status_code == 400 and "between 1 and 3650" in r.text
        r = admin.post("portal/admin/dormant", {"auto_days": "180", "days": "90"})
        assert r.status_code == 200 and "disabled automatically" in r.text
        assert sleeper.name in a_pass()
        assert try_sign_in(hub, sleeper.name).status_code == 403
        assert try_sign_in(hub, "admin").status_code == 302  # never an admin
        [event] = audit(hub, user=sleeper.name, kind="account disabled")
        assert event["actor"] == SYSTEM_ACTOR and "volumes are kept" in event["detail"]
    finally:
        admin.post("portal/admin/dormant", {"auto_days": "0", "days": "90"})
        idle_for(hub, "admin", 0)
    assert a_pass() == []
    details = [e["detail"] for e in audit(hub, kind="account policy")][:2]
    assert details == ["Dormant accounts are no longer disabled automatically.",
                       "Accounts without activity for 180 days are disabled automatically "
                       "(hourly)."]


def make_admin(admin, name: str, flag: bool):
    return admin.s.patch(admin.url(f"api/users/{name}"), json={"admin": flag}, timeout=30,
                         headers={"X-XSRFToken": admin.xsrf})


def test_bulk_archive_deletes_only_still_dormant_accounts_each_in_a_line(hub, admin, make_user):
    gone, woke, boss = make_user("archived"), make_user("woke-up"), make_user("boss")
    for user in (gone, woke, boss):
        idle_for(hub, user.name, 400)
    assert make_admin(admin, boss.name, True).status_code == 200  # an admin's, in sudo mode
    idle_for(hub, boss.name, 400)
    page = admin.get("portal/admin/dormant", params={"days": "365"}).text
    assert 'id="dormant-archive"' in page and "portal/admin/dormant/archive" in page
    idle_for(hub, woke.name, 1)  # active again after the report was shown
    r = admin.post("portal/admin/dormant/archive", {
        "days": "365", "user": [gone.name, woke.name, boss.name, "admin", "nobody-here"]})
    assert r.status_code == 200 and "1 of 5 done" in r.text, r.text
    for words in ("active since the report", "Admins are not archived",
                  "cannot archive your own account", "no such user", "volumes archived"):
        assert words in r.text, words
    assert hub.api("GET", f"users/{gone.name}").status_code == 404
    assert try_sign_in(hub, gone.name).status_code != 302
    assert hub.api("GET", f"users/{woke.name}").status_code == 200
    [event] = audit(hub, user=gone.name, kind="account deleted")
    assert event["actor"] == "admin" and event["detail"].startswith("volumes archived")
    assert woke.get("portal/admin/dormant/archive").status_code in (403, 405)
    r = woke.post("portal/admin/dormant/archive", {"days": "1", "user": [boss.name]})
    assert r.status_code == 403
    make_admin(admin, boss.name, False)
