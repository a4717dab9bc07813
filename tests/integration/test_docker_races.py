"""Docker changes made outside the hub, on the real engine: the card and the hub's record agree
within one poll of the hub (5 s in tests), and every button the card then shows works.

The users are named standin*: their containers run the stand-in lab (images/lab-standin), which
answers like a started lab; what is tested is the hub's handling of the container."""

from __future__ import annotations

import time

import requests

from tests.support.clients import card_state, ensure_running, ensure_stopped, wait_state
from tests.support.hub import PREFIX

POLL = 5  # c.PortalSpawner.poll_interval of the test hub (tests/support/jupyterhub_test_config)


def hub_record(hub, name: str) -> str:
    """What the hub's REST API records for the user's default server."""
    server = hub.api("GET", f"users/{name}").json()["servers"].get("")
    if not server:
        return "stopped"
    return server["pending"] or ("running" if server["ready"] else "starting")


def lab_answers(hub, name: str) -> bool:
    r = requests.get(f"{hub.url}user/{name}/api/status", timeout=10,
                     headers={"Authorization": f"token {hub.token}"})
    return r.status_code == 200


def wait_for(condition, bound: float, what: str) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_container_restarted_outside_the_hub_serves_again(hub, make_user, docker_client):
    user = make_user("standinrestart")
    ensure_running(user)
    docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}").restart(timeout=5)
    # Same container, same port (kept in the spawner's state): the lab answers again and
    # neither the card nor the hub ever records it as gone.
    wait_for(lambda: lab_answers(hub, user.name), 60, "the restarted lab never answered")
    assert card_state(user.get(f"portal/users/{user.name}/card").text) == "running"
    assert hub_record(hub, user.name) == "running"
    ensure_stopped(user)


def test_after_a_kill_card_and_hub_agree_within_one_poll_and_start_works(hub, make_user,
                                                                          docker_client):
    user = make_user("standinkill")
    ensure_running(user)
    docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}").kill()
    killed = time.monotonic()
    # Within one poll (plus the stop the poll starts) the hub no longer records a server...
    wait_for(lambda: hub_record(hub, user.name) == "stopped", POLL + 10,
             "the hub still records the killed server after one poll")
    took = time.monotonic() - killed
    # ...and the card says the same: stopped, with Start offered.
    html = user.get(f"portal/users/{user.name}/card").text
    assert card_state(html) == "stopped" and ">Start</button>" in html, (took, html[:400])
    r = user.post(f"portal/users/{user.name}/start")
    assert r.status_code == 200, r.text
    assert wait_state(user, user.name, {"running"}, timeout=90) == "running"
    ensure_stopped(user)


def test_start_pressed_while_the_hub_clears_a_killed_server_starts_it(hub, make_user,
                                                                      docker_client):
    """The CI failure: Start pressed on a card showing Start, while the hub's own poll was
    stopping its record of the killed server, got 409 "already running or starting". Pressed
    at every moment of that window, it must start the server."""
    user = make_user("standinrace")
    for delay in (0.0, POLL / 2, POLL):
        ensure_running(user)
        docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}").kill()
        time.sleep(delay)  # the moment of the press is what this test varies, not a wait
        r = user.post(f"portal/users/{user.name}/start")
        assert r.status_code == 200, (delay, r.text)
        assert wait_state(user, user.name, {"running"}, timeout=90) == "running", delay
    ensure_stopped(user)
