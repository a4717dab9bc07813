"""Idle culling on a hub with short times: the warning toast in JupyterLab (Chromium), then the
stop; "Keep running" postpones it; a member of an exempt group is never stopped.

A hub of its own (the idle times are its configuration): 40 s idle, warned 25 s before.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.clients import PASSWORD, Portal, card_state, ensure_running, signup, wait_state
from tests.support.hub import Hub
from tests.support.limits import events, make_group
from tests.ui.test_broadcast_ui import open_lab

IDLE, WARNING = 40, 25


@pytest.fixture(scope="module")
def culling_hub(docker_client, tmp_path_factory) -> Iterator[Hub]:
    h = Hub(tmp_path_factory.mktemp("culling-hub"), env={
        "IDLE_CULL_AFTER": f"{IDLE}s", "IDLE_CULL_WARNING": f"{WARNING}s",
        "IDLE_CULL_KEEP_MAX": "3m", "IDLE_CULL_EXEMPT_GROUPS": "cull-exempt",
    })
    h.start()
    assert signup(h, "admin").status_code == 200
    yield h
    h.stop()


def test_idle_lab_is_warned_in_jupyterlab_then_stopped_keep_and_exempt_survive(
        culling_hub, browser):
    hub = culling_hub
    admin = Portal(hub, "admin")
    names = {"exempt": "cull-exempt-user", "keeper": "cull-keeper", "idler": "cull-idler"}
    for name in names.values():
        r = admin.post("portal/admin/users", {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
    make_group(hub, "cull-exempt", names["exempt"])
    users = {role: Portal(hub, name) for role, name in names.items()}
    for role in ("exempt", "keeper", "idler"):  # the idler last: its clock starts last
        ensure_running(users[role])
    idler = names["idler"]

    # The card says when the server stops if idle, and offers to keep it.
    card = users["keeper"].get(f"portal/users/{names['keeper']}/card").text
    assert "If it stays idle" in card and "Keep running for 3 more minutes" in card
    assert "If it stays idle" not in users["exempt"].get(
        f"portal/users/{names['exempt']}/card").text

    # The keeper is warned first (started earlier); keeping it postpones the stop by 3 minutes.
    deadline = time.monotonic() + IDLE
    while not any(e[2].startswith("warned") for e in events(hub, "cull", names["keeper"])):
        assert time.monotonic() < deadline, "the keeper was never warned"
        time.sleep(0.5)
    r = users["keeper"].post(f"portal/users/{names['keeper']}/keep-running")
    assert r.status_code == 200 and card_state(r.text) == "running", r.text

    lab = open_lab(browser, hub, idler)
    toast = lab.locator(".Toastify__toast").filter(has_text="Your server is idle and will stop")
    expect(toast).to_be_visible(timeout=(IDLE + 20) * 1000)
    expect(toast).to_have_class(re.compile("Toastify__toast--warning"))
    expect(toast).to_contain_text("Keep running for 3 more minutes")

    assert wait_state(users["idler"], idler, {"stopped"}, timeout=IDLE + 30) == "stopped"
    stopped = [e for e in events(hub, "cull", idler) if e[2].startswith("stopped")]
    assert stopped and stopped[0][0] == "(hub)"
    # Past their own idle deadlines (started before the idler): both still run.
    time.sleep(8)
    for role in ("exempt", "keeper"):
        state = card_state(users[role].get(f"portal/users/{names[role]}/card").text)
        assert state == "running", role
    assert not events(hub, "cull", names["exempt"])
    kept = [e for e in events(hub, "cull", names["keeper"]) if e[2].startswith("kept")]
    assert kept and kept[0][0] == names["keeper"]
    for role in ("exempt", "keeper"):
        r = users[role].post(f"portal/users/{names[role]}/stop")
        assert r.status_code == 200


def test_bad_idle_policy_gets_a_readable_4xx_and_changes_nothing(culling_hub):
    # Its own hub may be a fresh one (the browser tests above are parametrized differently).
    make_group(culling_hub, "cull-exempt")
    admin = Portal(culling_hub, "admin")
    before = admin.get("portal/api/culling", htmx=False).json()
    for body, words in [({"idle_after": "-5m"}, "not a duration"),
                        ({"warning": "soon"}, "not a duration"),
                        ({"warning": "2h"}, "shorter than the idle time"),
                        ({"exempt": "no-such-group"}, "There is no group named")]:
        r = admin.post("portal/admin/culling", body)
        assert r.status_code in (400, 404) and words in r.text, r.text
    assert admin.get("portal/api/culling", htmx=False).json() == before
    r = admin.post("portal/admin/culling", {"idle_after": "2h", "exempt": "cull-exempt"})
    assert r.status_code == 200 and "stop after 2 hours idle" in r.text
    assert admin.get("portal/api/culling", htmx=False).json()["idle_after_seconds"] == 7200
    assert any("-> stop after 2 hours idle" in e[2] for e in events(culling_hub, "cull policy"))


