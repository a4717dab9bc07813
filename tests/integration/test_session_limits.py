"""Event streams are capped per user and for the whole hub, and per-lab broadcast tokens die
with their account (real hub)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
import requests

from portal.broadcast.broadcaster import SERVICE_NAME
from tests.support.clients import PASSWORD, Portal, ensure_running, ensure_stopped, signup
from tests.support.hub import Hub

pytestmark = pytest.mark.hub
PER_USER = 8  # portal.operations.live_updates.MAX_STREAMS_PER_USER


def open_stream(portal: Portal) -> requests.Response:
    return portal.s.get(portal.url("portal/events"), stream=True, timeout=30)


def test_one_user_cannot_open_event_streams_without_end(make_user):
    mallory, other = make_user("streams"), make_user("streams")
    readers = []  # a dropped reader of a chunked body closes its connection: keep them
    with contextlib.ExitStack() as streams:
        for _ in range(PER_USER):
            r = streams.enter_context(open_stream(mallory))
            assert r.status_code == 200
            readers.append(r.iter_content(64))
            assert next(readers[-1]).startswith(b": connected")
        refused = open_stream(mallory)
        assert refused.status_code == 429, refused.status_code
        assert "event streams open" in refused.text
        # Someone else is not held up by mallory's streams.
        with open_stream(other) as theirs:
            assert theirs.status_code == 200
        readers.clear()
    # Closed streams free their places (the hub notices the closed connection).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open_stream(mallory) as again:
            if again.status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError("closing the streams did not free their places")


HUB_WIDE = 3  # EVENT_STREAMS_MAX of the hub below (2000 by default)


@pytest.fixture(scope="module")
def small_hub(docker_client, tmp_path_factory) -> Iterator[Hub]:
    hub = Hub(tmp_path_factory.mktemp("streams-hub"), env={"EVENT_STREAMS_MAX": str(HUB_WIDE)})
    hub.start()
    assert signup(hub, "admin").status_code == 200
    yield hub
    hub.stop()


def test_many_users_together_cannot_open_event_streams_without_end(small_hub):
    admin = Portal(small_hub, "admin")
    users = []
    for name in ("flood-a", "flood-b", "flood-c"):
        r = admin.post("portal/admin/users", {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text[:300]
        users.append(Portal(small_hub, name))
    readers = []
    with contextlib.ExitStack() as streams:
        for portal in users[:2] + users[:1]:  # 2 + 1 streams: each user below their own cap
            r = streams.enter_context(open_stream(portal))
            assert r.status_code == 200
            readers.append(r.iter_content(64))
            assert next(readers[-1]).startswith(b": connected")
        refused = open_stream(users[2])  # a user with no stream at all, past the hub's cap
        assert refused.status_code == 429, refused.status_code
        assert f"The hub has {HUB_WIDE} event streams open" in refused.text
        readers.clear()
    deadline = time.monotonic() + 20  # closed streams free their places
    while time.monotonic() < deadline:
        with open_stream(users[2]) as again:
            if again.status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError("closing the streams did not free the hub's places")


def lab_tokens(hub, name: str) -> list[tuple]:
    return hub.sql("hub", "SELECT api_tokens.hashed FROM api_tokens JOIN services"
                   " ON services.id = api_tokens.service_id WHERE services.name = :service"
                   " AND api_tokens.scopes LIKE :scope",
                   service=SERVICE_NAME, scope=f'%"access:servers!server={name}/"%')


def broadcast_to(admin: Portal, name: str) -> None:
    r = admin.post("portal/admin/broadcast", {
        "message": "token test", "type": "info", "auto_close": "after",
        "auto_close_seconds": "5", "recipients": "users", "users": [name]})
    assert r.status_code == 200, r.text[:300]


def test_a_deleted_accounts_lab_token_does_not_open_the_next_lab_of_that_name(
        hub, admin, make_user):
    bob = make_user("tokbob")
    ensure_running(bob)
    broadcast_to(admin, bob.name)
    [old] = lab_tokens(hub, bob.name)  # what bob's lab received (bob controls that code)
    ensure_stopped(bob)
    assert hub.api("DELETE", f"users/{bob.name}").status_code == 204
    # The token (valid for 5 minutes) named the lab by user name only: it must go with bob.
    assert lab_tokens(hub, bob.name) == [], "the deleted account's lab token is still valid"
    # A new account of that name gets a token of its own, never the cached one.
    r = admin.post("portal/admin/users", {"username": bob.name, "password": PASSWORD})
    assert r.status_code == 200, r.text[:300]
    new_bob = Portal(hub, bob.name)
    ensure_running(new_bob)
    broadcast_to(admin, bob.name)
    tokens = lab_tokens(hub, bob.name)
    assert tokens and old not in tokens
    ensure_stopped(new_bob)
