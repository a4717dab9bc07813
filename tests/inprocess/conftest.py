"""Fixtures of the in-process suite: the hub application in this pytest process over an
in-memory Docker engine (tests/support/inprocess_hub.py, fake_docker.py), signed-in users.

The names are the real-hub suite's (tests/conftest.py: hub, admin, make_user), so a handler test
moves between the suites unchanged; `engine` stands where `docker_client` stood. Everything that
needs a running lab, the real engine or a browser stays in tests/integration and tests/ui, and
so does every attack on the hub's security.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.account_fixtures import admin, make_user  # noqa: F401 (fixtures)
from tests.support.clients import signup
from tests.support.fake_docker import FakeEngine
from tests.support.fake_labs import AnsweringLabs
from tests.support.inprocess_hub import HubInProcess, no_real_docker


@pytest.fixture(autouse=True)
def _no_real_docker() -> Iterator[None]:
    """A real Docker client made during a test here would start real labs, unprefixed, on the
    machine's engine (a seam the harness missed once did): it fails the test instead. Per test:
    integration tests may follow in the same session (the hub's start is guarded alike)."""
    with no_real_docker():
        yield


@pytest.fixture(scope="session")
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def answering_labs(hub: HubInProcess, engine: FakeEngine) -> Iterator[AnsweringLabs]:
    """During the test, a container the engine starts answers on its port as a lab would, so a
    start completes (without this no lab answers, and the hub gives a start up). Every server
    still running at the end is stopped: the hub is the worker's, and a lab left running is
    sampled for usage during the tests after it (a test counting Docker calls saw those)."""
    engine.labs = labs = AnsweringLabs()
    try:
        yield labs
    finally:
        stop_every_server(hub)
        engine.labs = None
        labs.close_all()


def stop_every_server(hub: HubInProcess) -> None:
    def active() -> list[dict]:
        r = hub.api("GET", "users?state=active")
        assert r.status_code == 200, r.text
        return r.json()

    for user in active():
        for server in user.get("servers", {}):
            path = f"users/{user['name']}/servers/{server}" if server else (
                f"users/{user['name']}/server")
            assert hub.api("DELETE", path).status_code in (202, 204, 400, 404)
    hub.wait_for(lambda: not active(), timeout=30, what="every server stopped")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Iterator[Path]:
    """The hub's data directory (both SQLite databases) in memory where the machine has a
    tmpfs: each commit's fsync on disk made creating 300 users take 19 s instead of 8 s."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("inprocess-hub")
        return
    path = Path(tempfile.mkdtemp(prefix="dshub-inprocess-", dir=shm))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def hub(engine, data_dir) -> Iterator[HubInProcess]:
    h = HubInProcess(data_dir, engine=engine)
    h.start()
    try:
        # The setup code is written once the hub serves (a background task): wait for it.
        h.wait_for(h.setup_code, what="the setup code in the data directory")
        code = h.setup_code()
        assert code in h.log_path.read_text(), "the setup code is not in the hub's log"
        assert signup(h, "admin", setup_code=code).status_code == 200
        yield h
    finally:
        h.stop()


@pytest.fixture(autouse=True)
def _hub_outlives_the_test(request) -> Iterator[None]:
    yield
    if "hub" in request.fixturenames:
        h: HubInProcess = request.getfixturevalue("hub")
        if not h.alive:
            pytest.fail(f"the in-process hub stopped during this test; its log ends:\n"
                        f"{h.log_tail()}")
