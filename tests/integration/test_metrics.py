"""The portal's metrics scraped from a real hub's /hub/metrics, as Prometheus does (a token
holding read:metrics only; anonymous scrapes refused), moved by a real lab, a broadcast into it
and a throttled sign-in; and the storage soft quota's warning inside that lab, once."""

from __future__ import annotations

import time

import requests

from tests.integration.test_broadcast import drain
from tests.support.audit import audit
from tests.support.clients import ensure_running, ensure_stopped, try_sign_in
from tests.support.hub import PREFIX
from tests.support.metrics import samples, scrape, scraper_token, value

LAB = {"environment": "dshub-lab:latest", "node": "engine"}  # the test hubs' image, one engine


def wait_for(what: str, condition, bound: float) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"not within {bound:.0f} s: {what}"
        time.sleep(1)


def passes(hub) -> int:
    """Usage passes the hub has begun (portal/api/usage)."""
    r = requests.get(hub.hub_url("portal/api/usage"), timeout=30,
                     headers={"Authorization": f"token {hub.token}"})
    assert r.status_code == 200, r.text[:300]
    return r.json()["passes"]


def whole_passes(hub, count: int) -> None:
    """Wait until `count` usage passes have run from start to end after this call. A pass also
    reads Docker's volume sizes now and then, which a busy engine can take tens of seconds to
    answer, so the bound is generous; waiting on the passes, not on the clock, is what keeps a
    slow machine from failing the test."""
    begun = passes(hub)
    wait_for(f"{count} whole usage passes", lambda: passes(hub) > begun + count, 180)


def storage_warnings(hub, name: str) -> list[dict]:
    return [n for n in drain(hub, name) if "storage quota" in n["message"]]


def test_a_lab_a_broadcast_a_throttled_sign_in_and_a_storage_warning(hub, admin, make_user,
                                                                       docker_client):
    user = make_user("metered")
    # The production configuration keeps JupyterHub's authenticate_prometheus: only a token
    # (or session) holding read:metrics may scrape; users hold none.
    assert scrape(hub).status_code == 403
    assert scrape(hub, session=user.s).status_code == 403
    assert scrape(hub, scraper_token(hub)).status_code == 200
    before = samples(hub)
    # A storage soft quota of 64 MiB for the user's group, then a lab holding 80 MiB.
    group = f"m-storage-{user.name}"
    assert hub.api("POST", f"groups/{group}", json={"users": [user.name]}).status_code == 201
    r = admin.post("portal/admin/quotas", {"group": group, "storage": "64M"})
    assert r.status_code == 200, r.text
    ensure_running(user)
    lab = docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}")
    result = lab.exec_run("dd if=/dev/zero of=/home/lab/workspace/big bs=1M count=80")
    assert result.exit_code == 0, result.output

    # The running labs' gauge and the usage counters follow the usage passes (every 5 s here).
    wait_for("the lab in dshub_running_labs and its lab seconds counted", lambda: (
        value(now := samples(hub), "dshub_running_labs", **LAB) >= 1
        and value(now, "dshub_lab_seconds_total") > value(before, "dshub_lab_seconds_total")),
        180)  # a pass may wait on Docker's volume sizes (whole_passes)
    # A broadcast into the lab, and a throttled sign-in from an address of the test's own.
    r = admin.post("portal/admin/broadcast", {
        "message": "Counted", "type": "info", "auto_close": "after", "auto_close_seconds": "5",
        "recipients": "users", "users": [user.name]})
    assert r.status_code == 200 and 'data-delivered="1"' in r.text, r.text
    statuses = [try_sign_in(hub, user.name, "wrong-password", "127.0.0.231").status_code
                for _ in range(7)]  # 5 free failures, then the address waits
    assert 429 in statuses, statuses
    after = samples(hub)
    for name, labels in (("dshub_broadcasts_total", {}),
                         ("dshub_broadcast_deliveries_total", {"result": "delivered"})):
        assert value(after, name, **labels) == value(before, name, **labels) + 1, name
    throttled = {"reason": "throttled"}
    assert value(after, "dshub_signins_throttled_total", **throttled) >= \
        value(before, "dshub_signins_throttled_total", **throttled) + statuses.count(429)

    # The volumes past the quota: one warning inside the lab once the sizes are measured
    # (Docker's df, at most once a minute, read by every tenth usage pass), audited, counted.
    found: list[dict] = []
    wait_for("the storage warning in the lab", lambda: found.extend(
        storage_warnings(hub, user.name)) or found, 240)
    assert found[0]["type"] == "warning" and "more than your storage quota of 64 MiB" in \
        found[0]["message"], found
    (event,) = audit(hub, user=user.name, kind="quota warning")
    assert event["ok"] and event["actor"] == "(hub)", event
    whole_passes(hub, 2)  # two more passes see the same sizes: no second warning
    assert storage_warnings(hub, user.name) == []
    warned = {"quota": "storage", "result": "delivered"}
    assert value(samples(hub), "dshub_quota_warnings_total", **warned) == \
        value(before, "dshub_quota_warnings_total", **warned) + 1
    ensure_stopped(user)
    whole_passes(hub, 1)  # the gauges are the last pass's totals
    assert value(samples(hub), "dshub_running_labs", **LAB) < value(
        after, "dshub_running_labs", **LAB)
