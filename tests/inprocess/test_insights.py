"""Insights in process: the admin page over a period, its exports and monthly report, a user's
own usage, and the refusals; rollups are seeded into the hub's store. How real samples become
rollups is tests/unit/test_rollups.py; a real lab's, across a hub restart, tests/integration."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta

from portal.insights.rollup_rows import write_hourly
from portal.insights.rollups import GIB, HOUR, Rollup, hour_of
from portal.insights.service import TABLE_USERS
from tests.support.audit import audit
from tests.support.insights import insights_api, runtime_of, seed


def test_the_page_its_exports_and_the_monthly_report(hub, admin, make_user):
    heavy, light = make_user("insheavy"), make_user("inslight")
    assert hub.api("POST", "groups/ins-team", json={"users": [heavy.name]}).status_code == 201
    seed(hub, heavy.name, 1, lab_seconds=HOUR, cpu_seconds=1800, memory_gib_hours=2.0,
         memory_peak=3 * GIB, storage=5 * GIB, volumes={"home": 5 * GIB})
    seed(hub, heavy.name, 2, lab_seconds=HOUR, cpu_seconds=600, memory_gib_hours=1.0,
         memory_peak=GIB)
    seed(hub, light.name, 1, lab_seconds=HOUR / 2, cpu_seconds=60)

    page = admin.get("portal/admin/insights?period=week", htmx=False)
    assert page.status_code == 200, page.text
    assert "<title>DS Hub admin: Insights</title>" in page.text
    for piece in ('data-chart="chart-active"', 'data-chart="chart-running"',
                  'data-chart="chart-groups"', 'data-chart="chart-users"',
                  f'data-user="{heavy.name}"', 'data-group="ins-team"'):
        assert piece in page.text
    # A click on a user leads to their row in the admin's user table.
    assert f"portal/admin/users?q={heavy.name}" in page.text.replace("%20", " ")

    rows = insights_api(admin, "users", period="week").json()["rows"]
    by_name = {r["name"]: r for r in rows}
    assert by_name[heavy.name]["lab_hours"] == 2.0
    assert by_name[heavy.name]["cpu_hours"] == round(2400 / HOUR, 3)
    assert by_name[heavy.name]["memory_gib_hours"] == 3.0
    assert by_name[heavy.name]["memory_peak_bytes"] == 3 * GIB
    assert rows[0]["name"] == heavy.name  # largest first
    exported = list(csv.DictReader(io.StringIO(insights_api(
        admin, "users", period="week", format="csv").text)))
    assert {r["name"]: float(r["lab_hours"]) for r in exported} == {
        r["name"]: r["lab_hours"] for r in rows}
    groups = {g["name"]: g for g in insights_api(admin, "groups", period="day").json()["rows"]}
    assert groups["ins-team"]["lab_hours"] == 2.0 and groups["ins-team"]["active_users"] == 1
    daily = insights_api(admin, "daily", period="week").json()["rows"]
    assert len(daily) == 7 and sum(d["lab_hours"] for d in daily) >= 2.5

    # The month of the seeded hour with storage (the test may run at the start of a month).
    month = f"{datetime.now(UTC) - timedelta(hours=1):%Y-%m}"
    report = admin.s.get(admin.url("portal/api/insights/monthly"), timeout=30,
                         params={"format": "csv", "month": month})
    assert report.headers["Content-Type"].startswith("text/csv")
    team = next(r for r in csv.DictReader(io.StringIO(report.text)) if r["name"] == "ins-team")
    assert float(team["lab_hours"]) >= 1.0 and int(team["storage_bytes"]) == 5 * GIB


def test_a_users_own_usage(hub, make_user):
    me = make_user("insown")
    seed(hub, me.name, 0, lab_seconds=1800, cpu_seconds=900, memory_peak=GIB,
         storage=GIB, volumes={"home": GIB // 2, "workspace": GIB // 2})
    fragment = me.get(f"portal/users/{me.name}/usage-history")
    assert fragment.status_code == 200
    assert "Your usage" in fragment.text and 'data-chart="chart-own-hours"' in fragment.text
    assert "workspace: 512 MiB" in fragment.text
    mine = me.s.get(me.url(f"portal/api/users/{me.name}/usage/history"), timeout=30).json()
    assert mine["month"]["lab_hours"] == 0.5 and mine["month"]["cpu_hours"] == 0.25
    assert "Loading your usage" in me.get("portal", htmx=False).text  # the page loads it


def test_refusals(hub, admin, make_user):
    someone = make_user("inscurious")
    for params, words in (({"period": "year"}, "period must be one of"),
                          ({"period": "custom"}, "since must be a date"),
                          ({"period": "custom", "since": "2026-12-02", "until": "2026-12-01"},
                           "until must not be before since"),
                          ({"period": "week", "format": "xml"}, "format must be csv or json")):
        r = insights_api(admin, "users", **params)
        assert r.status_code == 400 and words in r.json()["message"]
    page = admin.get("portal/admin/insights?period=custom&since=2020-01-01&until=2026-01-01",
                     htmx=False)
    assert page.status_code == 400 and "at most 800 days" in page.text
    assert someone.get("portal/admin/insights", htmx=False).status_code == 403
    assert insights_api(someone, "users").status_code == 403
    assert someone.get(f"portal/users/{admin.name}/usage-history").status_code in (403, 404)


def test_quotas_are_changed_in_the_portal_audited_and_refuse_a_start(hub, admin, make_user):
    student = make_user("insquota")
    assert hub.api("POST", "groups/ins-students", json={"users": [student.name, "admin"]}
                   ).status_code == 201
    seed(hub, student.name, 0, lab_seconds=HOUR)
    seed(hub, "admin", 0, lab_seconds=HOUR)
    r = admin.post("portal/admin/quotas", {"group": "ins-students", "storage": "10G",
                                           "lab_hours": "0.5"})
    assert r.status_code == 200 and "storage 10 GiB, 0.5 lab hours a month" in r.text
    assert 'data-group="ins-students"' in admin.get("portal/admin/quotas").text
    (event,) = audit(hub, user="ins-students", kind="quota change")
    assert event["actor"] == "admin" and event["detail"].endswith("0.5 lab hours a month")

    r = student.post(f"portal/users/{student.name}/start")
    assert r.status_code == 409 and "You have used your 0.5 lab hours" in r.text
    assert "they renew on " in r.text
    r = student.s.post(student.url(f"portal/api/users/{student.name}/server/start"),
                       headers={"X-XSRFToken": student.xsrf}, timeout=30)
    assert r.status_code == 409 and "lab hours" in r.json()["message"]
    runtime = runtime_of(hub)
    assert runtime.quotas.start_refusal("admin") is None  # admins are exempt

    for body, words in (({"group": "ins-students", "storage": "big"}, "is not a size"),
                        ({"group": "nobody-here", "lab_hours": "3"}, "no group named")):
        r = admin.post("portal/admin/quotas", body)
        assert r.status_code in (400, 404) and words in r.text
    r = admin.s.put(admin.url("portal/api/quotas/groups/ins-students"), json={},
                    headers={"X-XSRFToken": admin.xsrf}, timeout=30)
    assert r.json() == {"group": "ins-students", "storage_bytes": None, "lab_hours": None}
    assert runtime.quotas.start_refusal(student.name) is None
    assert student.get("portal/admin/quotas").status_code == 403


def test_the_page_lists_the_top_users_and_the_export_every_one(hub, admin):
    runtime = runtime_of(hub)
    start = hour_of(time.time()) - 2 * HOUR
    many = {(f"insmany{n:03d}", "", start): Rollup(lab_seconds=n + 1.0, samples=1)
            for n in range(TABLE_USERS + 5)}
    hub.run(runtime.store.run(write_hourly, runtime.store, many))
    page = admin.get("portal/admin/insights?period=day", htmx=False).text
    section = page[page.index('id="insights-users"'):page.index('id="insights-monthly"')]
    assert section.count("<tr data-user=") == TABLE_USERS
    assert 'data-user="insmany104"' in section and 'data-user="insmany000"' not in section
    assert f"The {TABLE_USERS} users with the most lab hours of" in section
    exported = {r["name"] for r in insights_api(admin, "users", period="day").json()["rows"]}
    assert set(name for name, _, _ in many) <= exported
