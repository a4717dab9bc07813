"""On the real engine: a hub whose configuration binds the engine's sockets (however spelled),
their directories or a parent, and asks to keep containers, still starts a non-member's lab
without any of them, and removes the container on stop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clients import Portal, ensure_running, ensure_stopped, signup
from tests.support.hub import PREFIX, Hub

pytestmark = pytest.mark.docker

# Host path -> where the configuration asks to mount it in every lab.
HOSTILE_BINDS = {
    "/var/run/../run/docker.sock": "/hostile/dotdot",
    "/var/run/../var/run/docker.sock": "/hostile/dotdot-var",
    "/run/./docker.sock": "/hostile/dot",
    "/var/run/docker.sock/": "/hostile/trailing",
    "//run//docker.sock": "/hostile/slashes",
    "/var/run": "/hostile/var-run",
    "/run": "/hostile/run",
    "/var": "/hostile/var",
    "/": "/hostile/root",
}
# Sockets that may not exist on this host go through Mounts (which never create a missing
# source): containerd's, under both spellings of the runtime directory.
HOSTILE_CONFIG = f"""\
from docker.types import Mount
c.PortalSpawner.remove = False
c.PortalSpawner.read_only_volumes = {HOSTILE_BINDS!r}
c.PortalSpawner.extra_host_config = {{"mounts": [
    Mount("/hostile/containerd", "/run/containerd/containerd.sock", type="bind"),
    Mount("/hostile/containerd-var", "/var/run/containerd/containerd.sock", type="bind"),
    Mount("/hostile/docker-sock-mount", "/var/run/./docker.sock", type="bind"),
]}}
"""


@pytest.fixture(scope="module")
def hostile_hub(docker_client, tmp_path_factory) -> Iterator[Hub]:
    directory = tmp_path_factory.mktemp("hostile-hub")
    extra = directory / "hostile_config.py"
    extra.write_text(HOSTILE_CONFIG)
    hub = Hub(directory / "data", env={"DSHUB_TEST_EXTRA_CONFIG": str(extra)})
    hub.start()
    assert signup(hub, "admin").status_code == 200
    yield hub
    hub.stop()


def test_configured_engine_paths_never_reach_a_non_members_lab(hostile_hub, docker_client):
    # The admin is in neither Docker-access group: a non-member like any other.
    user = Portal(hostile_hub, "admin")
    ensure_running(user)
    lab = docker_client.containers.get(f"{PREFIX}jupyterlab-admin")
    first_id = lab.id
    mounts = lab.attrs["Mounts"]
    binds = {m["Destination"]: m["Source"] for m in mounts if m["Type"] == "bind"}
    assert binds == {}, binds  # no host path at all
    assert not [m for m in mounts if m["Destination"].startswith("/hostile")], mounts
    assert not any("docker.sock" in m.get("Source", "") or "containerd" in m.get("Source", "")
                   for m in mounts), mounts
    assert {m["Destination"]: m.get("Name") for m in mounts}["/home/lab/workspace"] == (
        f"{PREFIX}jupyterlab-admin_workspace")  # the lab's own volumes are still there
    assert not lab.attrs["HostConfig"].get("VolumesFrom")
    # Asked to keep containers, the hub still removes the container on stop ...
    ensure_stopped(user)
    assert not docker_client.containers.list(
        all=True, filters={"name": f"{PREFIX}jupyterlab-admin"})
    # ... so the next start creates a new one from today's rules.
    ensure_running(user)
    assert docker_client.containers.get(f"{PREFIX}jupyterlab-admin").id != first_id
    ensure_stopped(user)
