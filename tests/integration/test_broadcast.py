"""Notification broadcast into real labs (real hub, real Docker, real extension).

Delivery is checked in each lab's own queue (the extension's `notifications` endpoint, drained
with the driver token); reasons, timing, validation, the JSON API and history across a restart.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time

import pytest
import requests
import sqlalchemy

from portal.broadcast.broadcaster import DEFAULT_TIMEOUT, SERVICE_NAME
from tests.support.clients import Portal, ensure_running, ensure_stopped
from tests.support.hub import PREFIX

EXT = "jupyterlab-notifications-extension"


def drain(hub, name: str) -> list[dict]:
    """Take every queued notification out of a user's lab (as the lab's page would)."""
    r = requests.get(f"{hub.url}user/{name}/{EXT}/notifications",
                     headers={"Authorization": f"token {hub.token}"}, timeout=30)
    assert r.status_code == 200, (name, r.status_code, r.text[:200])
    return r.json()["notifications"]


def send(portal: Portal, xsrf: bool = True, **form) -> requests.Response:
    data = {"message": "Hello from the admins", "type": "info", "auto_close": "after",
            "auto_close_seconds": "5", "recipients": "all", **form}
    return portal.post("portal/admin/broadcast", data, xsrf=xsrf)


def results(page: str) -> dict[str, tuple[bool, str]]:
    rows = re.findall(r'<tr data-user="([^"]+)" data-ok="(true|false)">\s*'
                      r"<td>[^<]*</td><td>([^<]*)</td>", page)
    return {html.unescape(u): (ok == "true", html.unescape(reason)) for u, ok, reason in rows}


def counts(page: str) -> tuple[int, ...]:
    """(targeted, delivered, failed) from the result fragment."""
    return tuple(int(re.search(rf'data-{k}="(\d+)"', page).group(1))
                 for k in ("targeted", "delivered", "failed"))


def api(hub, method: str, token: str, **kw) -> requests.Response:
    return requests.request(method, hub.hub_url("portal/api/broadcasts"), timeout=60,
                            headers={"Authorization": f"token {token}"}, **kw)


def stored(hub) -> list[dict]:
    r = api(hub, "GET", hub.token, params={"limit": 500})
    assert r.status_code == 200, r.text
    return r.json()["broadcasts"]


@pytest.fixture(scope="module")
def cast(hub, make_user):
    """Two running labs, one stopped server, one lab whose image lacks the extension."""
    run1, run2, stopped, noext = (make_user(b) for b in ("bcast", "bcast", "bstop", "noext"))
    for p in (run1, run2, noext):
        ensure_running(p)
    ensure_stopped(stopped)
    return {"run1": run1, "run2": run2, "stopped": stopped, "noext": noext}


def test_warning_reaches_both_labs_and_others_get_plain_reasons_without_delay(cast, admin, hub):
    run1, run2, stopped, noext = (cast[k] for k in ("run1", "run2", "stopped", "noext"))
    for p in (run1, run2):
        drain(hub, p.name)
    message = "Maintenance at 18:00: save your work ⚠️ (back by 18:30)"
    started = time.monotonic()
    r = send(admin, message=message, type="warning", auto_close="never", recipients="users",
             users=[run1.name, run2.name, stopped.name, noext.name])
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert results(r.text) == {
        run1.name: (True, "delivered"),
        run2.name: (True, "delivered"),
        stopped.name: (False, "not running"),
        noext.name: (False, "extension not installed"),
    }
    assert counts(r.text) == (4, 2, 2)
    # Neither the stopped server nor the lab without the extension holds anyone up (waiting on
    # either would take the whole delivery timeout).
    assert elapsed < DEFAULT_TIMEOUT - 0.5, elapsed
    for p in (run1, run2):
        [notification] = drain(hub, p.name)
        assert notification["message"] == message
        assert notification["type"] == "warning"
        assert notification["autoClose"] is False
    assert "portal:broadcast-sent" in json.loads(r.headers["HX-Trigger"])
    latest = stored(hub)[0]
    assert latest["message"] == message and latest["sender"] == "admin"
    assert latest["recipients"] == {"users": sorted([run1.name, run2.name, stopped.name,
                                                     noext.name])}
    assert (latest["targeted"], latest["delivered"], latest["failed"]) == (4, 2, 2)


def test_a_hung_lab_costs_only_its_timeout_and_the_hub_stays_responsive(cast, admin, hub,
                                                                        docker_client):
    run1, run2 = cast["run1"], cast["run2"]
    drain(hub, run1.name)
    container = docker_client.containers.get(f"{PREFIX}jupyterlab-{run2.name}")
    # Stop the lab's server process: the kernel still accepts its connections, nothing answers.
    # Not `docker pause`: the cgroup freezer gives up ("unable to freeze") on a loaded machine.
    container.kill(signal="SIGSTOP")
    answer: dict = {}

    def go() -> None:
        started = time.monotonic()
        answer["r"] = send(admin, message="Is anyone there?", recipients="users",
                           users=[run1.name, run2.name])
        answer["elapsed"] = time.monotonic() - started

    try:
        worker = threading.Thread(target=go)
        worker.start()
        time.sleep(0.5)
        # While one lab hangs, the hub answers others at once: nothing blocks its event loop.
        slowest = 0.0
        while worker.is_alive():
            t = time.monotonic()
            assert requests.get(hub.hub_url("health"), timeout=5).status_code == 200
            slowest = max(slowest, time.monotonic() - t)
            time.sleep(0.2)
        worker.join()
    finally:
        container.kill(signal="SIGCONT")
    assert slowest < 3.0, slowest  # a loop blocked by the hung lab: the whole timeout (5 s)
    r = answer["r"]
    assert r.status_code == 200, r.text
    assert results(r.text) == {run1.name: (True, "delivered"),
                               run2.name: (False, "unreachable or timed out")}
    assert DEFAULT_TIMEOUT - 0.5 < answer["elapsed"] < DEFAULT_TIMEOUT + 5, answer["elapsed"]
    assert [n["message"] for n in drain(hub, run1.name)] == ["Is anyone there?"]
    # The hung lab may still take the request in once it resumes; leave its queue empty.
    time.sleep(0.5)
    drain(hub, run2.name)


# (id, form fields, expected status, words in the readable error)
BAD_FORMS = [
    ("empty", {"message": ""}, 400, "cannot be empty"),
    ("whitespace only", {"message": "  \n\t  "}, 400, "cannot be empty"),
    ("141 characters", {"message": "a" * 141}, 400, "141 characters"),
    ("141 emoji", {"message": "👍🏽" * 141}, 400, "141 characters"),
    ("unknown type", {"type": "shout"}, 400, "Unknown type"),
    ("auto-close 0 s", {"auto_close_seconds": "0"}, 400, "Auto-close"),
    ("auto-close not a number", {"auto_close_seconds": "soon"}, 400, "Auto-close"),
    ("no user chosen", {"recipients": "users", "users": []}, 400, "Choose at least one user"),
    ("unknown user", {"recipients": "users", "users": ["nobody-here"]}, 400, "No such user"),
    ("unknown group", {"recipients": "groups", "groups": ["no-such-group"]}, 400,
     "No such group"),
]


@pytest.mark.parametrize("form,status,words", [b[1:] for b in BAD_FORMS],
                         ids=[b[0] for b in BAD_FORMS])
def test_bad_input_is_refused_readably_and_nothing_is_sent_or_stored(cast, admin, hub, form,
                                                                     status, words):
    run1 = cast["run1"]
    drain(hub, run1.name)
    before = len(stored(hub))
    r = send(admin, **{"recipients": "users", "users": [run1.name], **form})
    assert r.status_code == status, r.text
    assert "portal-error" in r.text and words in html.unescape(r.text)
    assert drain(hub, run1.name) == []
    assert len(stored(hub)) == before


def test_non_admin_and_missing_xsrf_are_refused_and_nothing_is_sent(cast, admin, hub):
    run1 = cast["run1"]
    drain(hub, run1.name)
    before = len(stored(hub))
    r = send(run1, recipients="users", users=[run1.name])
    assert r.status_code == 403
    assert run1.get("portal/admin/broadcast").status_code == 403
    assert run1.get("portal/admin/broadcast/history").status_code == 403
    r = send(admin, xsrf=False, recipients="users", users=[run1.name])
    assert r.status_code == 403
    assert drain(hub, run1.name) == []
    assert len(stored(hub)) == before


def test_140_emoji_are_140_characters_and_markup_stays_text(cast, admin, hub):
    run1 = cast["run1"]
    drain(hub, run1.name)
    family = "👩‍👩‍👧‍👦"  # one character to a person, 11 code points
    r = send(admin, message=f"  {family * 140}\n ", recipients="users", users=[run1.name])
    assert r.status_code == 200, r.text
    assert [n["message"] for n in drain(hub, run1.name)] == [family * 140]

    markup = '<b>bold</b> & <img src=x onerror="alert(1)">'
    r = send(admin, message=markup, recipients="users", users=[run1.name])
    assert r.status_code == 200
    assert [n["message"] for n in drain(hub, run1.name)] == [markup]
    history = admin.get("portal/admin/broadcast/history").text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img" in history
    assert "<b>bold</b>" not in history and "<img src=x" not in history


def test_json_api_for_scripts(cast, hub):
    run1, stopped = cast["run1"], cast["stopped"]
    drain(hub, run1.name)
    body = {"message": "Deploy finished", "type": "success", "auto_close": 10,
            "recipients": {"users": [run1.name, stopped.name]}}
    # The driver service holds admin:servers, like every admin.
    r = api(hub, "POST", hub.token, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["targeted"], out["delivered"], out["failed"]) == (2, 1, 1)
    assert {d["user"]: d["reason"] for d in out["results"]} == {
        run1.name: "delivered", stopped.name: "not running"}
    [n] = drain(hub, run1.name)
    assert (n["message"], n["type"], n["autoClose"]) == ("Deploy finished", "success", 10_000)

    # A script's service with only the portal's broadcast scope may send too.
    script = "broadcast-" + hub.token
    r = api(hub, "POST", script, json={**body, "recipients": {"users": [run1.name]},
                                       "auto_close": None})
    assert r.status_code == 200, r.text
    assert drain(hub, run1.name)[0]["autoClose"] is False
    assert api(hub, "GET", script).status_code == 200
    assert stored(hub)[0]["sender"] == "test-broadcaster (service)"

    # A user's own token is not enough; bad bodies get readable JSON errors.
    r = hub.api("POST", f"users/{run1.name}/tokens", json={})
    assert r.status_code == 201, r.text
    own = r.json()["token"]
    before = len(stored(hub))
    assert api(hub, "POST", own, json=body).status_code == 403
    assert api(hub, "GET", own).status_code == 403
    for bad, words in [
        ({"message": "   "}, "cannot be empty"),
        ({"message": "x" * 141}, "141 characters"),
        ({"message": "x", "type": "loud"}, "Unknown type"),
        ({"message": "x", "auto_close": 0}, "Auto-close"),
        ({"message": "x", "auto_close": True}, "Auto-close"),
        ({"message": "x", "recipients": {"users": "bob"}}, "recipients"),
        ({"message": "x", "recipients": "everyone"}, "Recipients"),
        ({"message": 5}, "must be text"),
        ({"message": "ring\x07"}, "control characters"),
    ]:
        r = api(hub, "POST", hub.token, json=bad)
        assert r.status_code == 400, (bad, r.text)
        assert words in r.json()["message"], (bad, r.json())
    assert api(hub, "POST", hub.token, data="{not json").status_code == 400
    # A body far beyond any valid request is refused before it is parsed.
    huge = api(hub, "POST", hub.token, data='{"message": "' + "x" * 2_000_000 + '"}')
    assert huge.status_code == 413 and "far too large" in huge.json()["message"]
    assert len(stored(hub)) == before
    assert drain(hub, run1.name) == []


def test_history_survives_a_hub_restart_and_sending_still_works(cast, admin, hub):
    run1 = cast["run1"]
    drain(hub, run1.name)
    message = f"Before the restart {time.time():.0f}"
    assert send(admin, message=message, recipients="users", users=[run1.name]).status_code == 200
    drain(hub, run1.name)

    hub.restart()

    # The admin page loads this fragment: the history is read back from the portal's store.
    body = admin.get("portal/admin/broadcast")
    assert body.status_code == 200
    assert message in body.text and "Sent notifications" in body.text
    page = admin.get("portal/admin/broadcast", htmx=False)
    assert page.status_code == 200 and "Broadcast a notification" in page.text
    # The new start's credential reaches the labs; the previous start's token is gone.
    r = send(admin, message="After the restart", recipients="users", users=[run1.name])
    assert results(r.text) == {run1.name: (True, "delivered")}
    assert [n["message"] for n in drain(hub, run1.name)] == ["After the restart"]
    engine = sqlalchemy.create_engine(hub.database_url)  # SQLite or the run's PostgreSQL
    with engine.connect() as db:
        rows = db.execute(sqlalchemy.text(
            "SELECT api_tokens.expires_at, api_tokens.scopes FROM api_tokens"
            " JOIN services ON services.id = api_tokens.service_id WHERE services.name = :name"),
            {"name": SERVICE_NAME}).fetchall()
    engine.dispose()
    # One long-lived service token (this start's); what reached the labs were per-server tokens
    # that expire and open only their recipient's server.
    assert sum(1 for expires, _ in rows if expires is None) == 1
    per_server = [json.loads(scopes) for expires, scopes in rows if expires is not None]
    assert per_server and all(
        len(sc) == 1 and sc[0].startswith("access:servers!server=") for sc in per_server)
    assert [f"access:servers!server={run1.name}/"] in per_server
