"""Shared fixtures: the real Docker engine, a real hub, signed-in users.

Nothing here skips: without Docker, the hub or the browser these fixtures fail loudly.
"""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest

from tests import scheduling
from tests.support import postgres
from tests.support.account_fixtures import admin, make_user  # noqa: F401 (fixtures)
from tests.support.clients import signup
from tests.support.hub import Hub, remove_named_objects, stop_every_hub
from tests.support.swarm import Swarm

# The tests' hubs are forked from a process that imported JupyterHub and the portal once per
# worker (tests/support/warm_hubs.py): about 2 CPU-s less per start, seventy starts a run.
Hub.warm_start = True


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    scheduling.longest_first(items)


def pytest_sessionfinish() -> None:
    # A hub whose fixture failed after starting it would outlive the run (pytest-xdist's
    # workers may end without running atexit handlers).
    stop_every_hub()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=120)
    client.ping()  # fails (not skips) when no engine answers
    for image in ("dshub-lab:latest", "dshub-lab-standin:latest"):
        client.images.get(image)  # built by scripts/build-images.sh
    remove_named_objects(client)
    yield client
    remove_named_objects(client)


@pytest.fixture(scope="session")
def database_env() -> Iterator[dict[str, str]]:
    """The session hub's databases: a fresh PostgreSQL database for both the hub and the portal
    store when the run provides a server (scripts/test.sh), else {} (SQLite, the default)."""
    if not postgres.server_url():
        yield {}
        return
    url = postgres.create_database()
    yield {"JUPYTERHUB_DATABASE_URL": url, "PORTAL_DATABASE_URL": url}
    postgres.drop_database(url)


@pytest.fixture(scope="session")
def hub(docker_client, database_env, tmp_path_factory) -> Iterator[Hub]:
    h = Hub(tmp_path_factory.mktemp("hub"), env=database_env)
    h.start()
    # The configured admin signs up with the one-time setup code the hub wrote into its data
    # directory (and log), and is authorized at once (ENABLE_SIGNUP=1).
    code = h.setup_code()
    assert code and code in h.log_path.read_text(), "no setup code in the data dir and log"
    assert signup(h, "admin", setup_code=code).status_code == 200
    yield h
    h.stop()


@pytest.fixture(autouse=True)
def _session_hub_outlives_the_test(request) -> Iterator[None]:
    """A session hub that died fails the test that killed it, with the hub's own last words,
    instead of a trail of "connection refused" in every test after it."""
    yield
    if "hub" not in request.fixturenames:
        return
    hub: Hub = request.getfixturevalue("hub")
    if hub.proc is not None and hub.proc.poll() is not None:
        pytest.fail(f"the session hub exited with {hub.proc.returncode} during this test "
                    f"(last error: {hub.last_error()!r}); its log ends:\n{hub.log_tail()}")


@pytest.fixture(scope="module")
def swarm(docker_client) -> Iterator[Swarm]:
    """Two extra engines forming a 2-node swarm (manager 127.0.0.2, worker 127.0.0.3)."""
    s = Swarm().start()  # waits for another run's swarm; removes one a killed run left
    yield s
    s.stop()
