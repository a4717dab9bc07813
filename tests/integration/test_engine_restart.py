"""The Docker engine restarts under a running lab: the card says so while it is away, then the
card and the hub's record agree that the lab stopped, and Start brings it back.

On an engine of the test's own (its own socket and data root, with the lab image in it), so the
engine every other test uses never goes away.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_docker_races import POLL, hub_record, wait_for
from tests.support.clients import PASSWORD, Portal, card_state, signup, wait_state
from tests.support.engines import Engine
from tests.support.hub import Hub


@pytest.fixture
def own_engine(docker_client) -> Iterator[Engine]:
    # A short path: a unix socket's path must stay under 108 bytes.
    engine = Engine("restartable", "127.0.0.1", Path(tempfile.mkdtemp(prefix="dshubtest-eng-")))
    engine.start()
    try:
        engine.wait_ready()
        engine.clear_objects()
        engine.ensure_image()
        yield engine
    finally:
        engine.remove()


def test_engine_restart_under_a_running_lab(own_engine, tmp_path):
    hub = Hub(tmp_path / "hub", base_url="/", env={"DOCKER_HOST": own_engine.url})
    hub.start()
    try:
        assert signup(hub, "admin", setup_code=hub.setup_code()).status_code == 200
        admin = Portal(hub, "admin", PASSWORD)
        assert admin.post("portal/users/admin/start").status_code == 200
        assert wait_state(admin, "admin", {"running", "failed"}) == "running"

        own_engine.stop()  # dockerd stops its containers as it goes
        html = admin.get("portal/users/admin/card").text
        assert "Docker cannot be reached" in html, html[:500]
        own_engine.start()
        own_engine.wait_ready()
        back = time.monotonic()
        # Within a poll of the engine's return, the hub drops the record of the stopped lab,
        # and the card agrees: stopped, with Start offered.
        wait_for(lambda: hub_record(hub, "admin") == "stopped", POLL + 15,
                 "the hub still records the lab the engine restart stopped")
        html = admin.get("portal/users/admin/card").text
        assert card_state(html) == "stopped" and ">Start</button>" in html, (
            time.monotonic() - back, html[:500])
        assert admin.post("portal/users/admin/start").status_code == 200
        assert wait_state(admin, "admin", {"running", "failed"}) == "running"
        assert admin.post("portal/users/admin/stop").status_code == 200
        assert wait_state(admin, "admin", {"stopped"}) == "stopped"
    finally:
        hub.stop()
