"""The portal's metrics on the hub's own Prometheus endpoint, in process: who may scrape it,
and counters moved by a broadcast and a quota refusal (the running labs' gauges, a throttled
sign-in and a scrape across JupyterHub's lines: tests/integration/test_metrics.py)."""

from __future__ import annotations

from portal.insights.rollups import HOUR
from tests.support.insights import seed
from tests.support.metrics import samples, scrape, scraper_token, value


def test_only_read_metrics_opens_the_endpoint(hub, admin, make_user):
    user = make_user("scrapeless")
    # The production configuration keeps JupyterHub's authenticate_prometheus (True).
    assert scrape(hub).status_code == 403
    assert scrape(hub, session=user.s).status_code == 403  # a user holds no read:metrics
    r = scrape(hub, scraper_token(hub))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert "# HELP dshub_broadcasts_total Broadcasts sent" in r.text
    assert "# TYPE dshub_running_labs gauge" in r.text
    assert scrape(hub, session=admin.s).status_code == 200  # admins hold it


def test_a_broadcast_and_a_quota_refusal_move_their_counters(hub, admin, make_user):
    stopped, student = make_user("mstopped"), make_user("mstudent")
    before = samples(hub)
    r = admin.post("portal/admin/broadcast", {
        "message": "Counted", "type": "info", "auto_close": "after", "auto_close_seconds": "5",
        "recipients": "users", "users": [stopped.name]})
    assert r.status_code == 200, r.text
    seed(hub, student.name, 0, lab_seconds=HOUR)
    assert hub.api("POST", "groups/m-students", json={"users": [student.name]}).status_code == 201
    r = admin.post("portal/admin/quotas", {"group": "m-students", "lab_hours": "0.5"})
    assert r.status_code == 200, r.text
    assert student.post(f"portal/users/{student.name}/start").status_code == 409
    after = samples(hub)
    for name, labels, moved in (("dshub_broadcasts_total", {}, 1),
                                ("dshub_broadcast_deliveries_total", {"result": "failed"}, 1),
                                ("dshub_broadcast_deliveries_total", {"result": "delivered"}, 0),
                                ("dshub_quota_refusals_total", {"quota": "lab_hours"}, 1)):
        assert value(after, name, **labels) - value(before, name, **labels) == moved, name
