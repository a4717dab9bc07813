"""Faults and races on the real engine (users named standin* run the stand-in lab: what is
tested is the hub's handling of their containers), sign-in safety, XSRF on every POST route."""

from __future__ import annotations

import subprocess
import threading

import requests

from tests.support.clients import (
    PASSWORD,
    Portal,
    card_state,
    ensure_running,
    ensure_stopped,
    signup,
    wait_state,
)
from tests.support.hub import PREFIX


def volumes_of(docker_client, name: str) -> set[str]:
    return {v.name for v in docker_client.volumes.list() if v.name.startswith(
        f"{PREFIX}jupyterlab-{name}_")}


def test_container_killed_or_removed_outside_the_hub(make_user, docker_client):
    user = make_user("standinvictim")
    ensure_running(user)
    container = f"{PREFIX}jupyterlab-{user.name}"
    for outside in (["docker", "kill", container], ["docker", "rm", "-f", container]):
        subprocess.run(outside, check=True, capture_output=True)
        html = user.get(f"portal/users/{user.name}/card").text
        # The hub's own poll (every 5 s) may notice first and stop the server: also fine.
        if card_state(html) != "stopped":
            assert card_state(html) == "failed"
            assert "outside the hub" in html
        assert ">Start</button>" in html
        r = user.post(f"portal/users/{user.name}/start")
        assert r.status_code == 200, r.text
        assert wait_state(user, user.name, {"running"}, timeout=90) == "running"
        assert docker_client.containers.get(container).status == "running"
    ensure_stopped(user)


def test_reset_of_a_volume_in_use_elsewhere_is_refused_and_removes_nothing(make_user,
                                                                           docker_client):
    user = make_user("standinshared")
    ensure_running(user)
    ensure_stopped(user)
    before = volumes_of(docker_client, user.name)
    holder = docker_client.containers.create(
        "dshub-base:bookworm", ["sleep", "60"], name=f"{PREFIX}holder-{user.name}",
        volumes={f"{PREFIX}jupyterlab-{user.name}_workspace": {"bind": "/w", "mode": "rw"}},
    )
    try:
        r = user.post(f"portal/users/{user.name}/volumes/reset",
                      {"volume": ["workspace", "cache"], "confirm": "yes"})
        assert r.status_code == 200, r.text
        assert "Not reset: workspace" in r.text and holder.name in r.text
        assert "Reset: cache" in r.text
        assert volumes_of(docker_client, user.name) == before - {
            f"{PREFIX}jupyterlab-{user.name}_cache"}
    finally:
        holder.remove(force=True)


def _fill(docker_client, user: Portal, files: int = 15000) -> None:
    ensure_running(user)
    subprocess.run(["docker", "exec", f"{PREFIX}jupyterlab-{user.name}", "sh", "-c",
                    f"cd /home/lab/workspace && seq 1 {files} | xargs touch"], check=True)
    ensure_stopped(user)


def test_two_resets_at_once_one_wins_the_other_is_refused(make_user, docker_client):
    user = make_user("standinracer")
    _fill(docker_client, user)
    results: list[requests.Response] = []

    def reset() -> None:
        results.append(user.post(f"portal/users/{user.name}/volumes/reset",
                                 {"volume": ["workspace"], "confirm": "yes"}))

    threads = [threading.Thread(target=reset) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    texts = " ".join(r.text for r in results)
    if statuses == [200, 409]:
        assert "already in progress" in texts
    else:  # the first finished before the second arrived: nothing left to reset, no error
        assert statuses == [200, 200] and "Nothing to reset" in texts
    assert "Reset: workspace" in texts
    assert f"{PREFIX}jupyterlab-{user.name}_workspace" not in volumes_of(docker_client,
                                                                            user.name)


def test_start_racing_a_reset_is_refused_cleanly(make_user, docker_client):
    user = make_user("standinstarter")
    _fill(docker_client, user, files=30000)
    reset_result: list[requests.Response] = []
    t = threading.Thread(target=lambda: reset_result.append(user.post(
        f"portal/users/{user.name}/volumes/reset", {"volume": ["workspace"], "confirm": "yes"})))
    t.start()
    starts = []
    while t.is_alive() and len(starts) < 50:
        starts.append(user.post(f"portal/users/{user.name}/start"))
        if starts[-1].status_code == 200:
            break
    t.join()
    assert reset_result[0].status_code in (200, 409)
    refused = [r for r in starts if r.status_code == 409]
    for r in refused:
        assert "resetting volumes" in r.text or "Stop the server" in r.text
    # Whatever the order, no half state: the server ends running or stopped, never stuck.
    final = wait_state(user, user.name, {"running", "stopped"}, timeout=90)
    if final == "running":
        ensure_stopped(user)
    assert card_state(user.get(f"portal/users/{user.name}/card").text) == "stopped"


def test_sign_in_safety(hub):
    r = signup(hub, "shorty", "Ab1!xyz")
    assert "at least 8 characters" in r.text
    r = signup(hub, "commoner", "password123")
    assert "common" in r.text.lower()
    for name in ("shorty", "commoner"):
        assert hub.api("GET", f"users/{name}").status_code == 404
    # Password guessing is slowed per client address, not by locking accounts: attacked in
    # tests/integration/test_first_admin.py on a hub of its own.


POST_ROUTES = [
    "portal/users/{u}/start", "portal/users/{u}/stop", "portal/users/{u}/restart",
    "portal/users/{u}/recreate", "portal/users/{u}/volumes/reset", "portal/admin/users",
    "portal/admin/groups/docker-sock/add", "portal/admin/groups/docker-sock/remove",
    "portal/admin/archived-volumes/restore", "portal/admin/archived-volumes/delete",
]


def test_every_state_changing_route_needs_the_xsrf_token(admin, make_user, docker_client, hub):
    user = make_user("xsrf")
    before = (volumes_of(docker_client, user.name),
              hub.api("GET", "groups/docker-sock").json()["users"])
    for route in POST_ROUTES:
        for who in (admin, user):
            r = who.post(route.format(u=user.name),
                         {"username": user.name, "password": PASSWORD, "volume": ["home"],
                          "confirm": "yes"}, xsrf=False)
            assert r.status_code == 403, (route, r.status_code)
    after = (volumes_of(docker_client, user.name),
             hub.api("GET", "groups/docker-sock").json()["users"])
    assert after == before
    assert card_state(user.get(f"portal/users/{user.name}/card").text) == "stopped"
