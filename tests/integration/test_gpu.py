"""GPU detection against the real Docker engine, and what a hub does with its result.

This machine has no NVIDIA runtime, so the real probe must end as "no GPU" in time. The GPU case
uses a probe image made here (`<prefix>gpu-probe:latest`, a fake `nvidia-smi`) under runc,
chosen through the GpuDetection settings; user containers then carry the NVIDIA device request,
which this engine cannot honour, so their start fails with Docker's reason on the card.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import docker
import pytest

from portal.docker.service import DockerService
from portal.governance import gpu
from tests.support.clients import PASSWORD, Portal, card_state, signup, user_path, wait_state
from tests.support.hub import PREFIX, Hub

PROBE_IMAGE = f"{PREFIX}gpu-probe:latest"
# This run's probe container (the test hub config names it the same way): runs sharing one
# engine never remove each other's probe.
PROBE_NAME = f"{PREFIX}gpu-probe"
BASE_IMAGE = "dshub-base:bookworm"
FAKE_GPU = "GPU 0: DS Hub Test GPU (UUID: GPU-dshubtest-0)"
NVIDIA_REQUEST = {
    "Driver": "nvidia", "Count": -1, "DeviceIDs": None, "Capabilities": [["gpu"]], "Options": None,
}
SLACK = 10.0  # seconds allowed on top of a bound: removing the probe, a loaded test machine


def probe_containers(client: docker.DockerClient) -> list:
    return [
        c for c in client.containers.list(all=True, filters={"name": PROBE_NAME})
        if c.name == PROBE_NAME
    ]


@pytest.fixture(autouse=True)
def no_probe_container(docker_client) -> Iterator[None]:
    """No probe container before or after a test (a failed test may leave one)."""
    for c in probe_containers(docker_client):
        c.remove(force=True)
    yield
    for c in probe_containers(docker_client):
        c.remove(force=True)


@pytest.fixture(scope="module")
def probe_image(docker_client, tmp_path_factory) -> Iterator[str]:
    """A probe that 'finds' one GPU: the base image with a fake nvidia-smi."""
    context = tmp_path_factory.mktemp("gpu-probe")
    script = context / "nvidia-smi"
    script.write_text(f'#!/bin/sh\necho "{FAKE_GPU}"\n')
    script.chmod(0o755)  # the legacy builder's COPY keeps the mode
    (context / "Dockerfile").write_text(
        f"FROM {BASE_IMAGE}\nCOPY nvidia-smi /usr/local/bin/nvidia-smi\n"
    )
    subprocess.run(
        ["docker", "build", "--network", "host", "-q", "-t", PROBE_IMAGE, str(context)],
        env={**os.environ, "DOCKER_BUILDKIT": "0"}, check=True, capture_output=True,
        timeout=300,
    )
    yield PROBE_IMAGE
    with contextlib.suppress(docker.errors.NotFound):
        docker_client.images.remove(PROBE_IMAGE, force=True)


async def detect(docker: DockerService, image: str, **options) -> gpu.GpuStatus:
    return await gpu.detect(docker, image, name=PROBE_NAME, **options)


@pytest.fixture
def service() -> DockerService:
    return DockerService()


# --- detection on its own -----------------------------------------------------------------------


async def test_without_nvidia_detection_ends_off_in_time_and_leaves_no_container(
    service, docker_client
):
    # The real thing on this machine: an image with a shell but no NVIDIA runtime on the engine.
    started = time.monotonic()
    status = await detect(service, BASE_IMAGE, runtime="nvidia", bound=20, pull=False)
    assert time.monotonic() - started < 20 + SLACK
    assert status.mode == 2 and status.enabled is False
    assert "Unknown runtime specified nvidia" in status.reason
    assert probe_containers(docker_client) == []


async def test_stale_probe_container_is_removed(service, docker_client, probe_image):
    # What a hub that crashed mid-probe leaves behind.
    stale = docker_client.containers.run(
        BASE_IMAGE, ["sleep", "600"], name=PROBE_NAME, detach=True
    )
    status = await detect(service, probe_image, runtime="runc", bound=30, pull=False)
    assert status.enabled is True, status.reason
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(stale.id)
    assert probe_containers(docker_client) == []


async def test_probe_under_a_runtime_that_succeeds_detects_the_gpus(
    service, docker_client, probe_image
):
    status = await detect(service, probe_image, runtime="runc", bound=30, pull=False)
    assert status.mode == 2 and status.enabled is True
    assert status.reason == f"NVIDIA GPUs detected: {FAKE_GPU}"
    assert probe_containers(docker_client) == []


async def test_a_probe_that_hangs_ends_off_at_the_bound_and_is_removed(service, docker_client):
    started = time.monotonic()
    status = await detect(
        service, BASE_IMAGE, runtime="runc", command=["sleep", "600"], bound=4, pull=False
    )
    assert time.monotonic() - started < 4 + SLACK
    assert status.enabled is False
    assert "did not finish within 4 s" in status.reason
    assert probe_containers(docker_client) == []


async def test_a_failing_nvidia_smi_is_no_gpu_with_its_words(service, docker_client):
    status = await detect(
        service, BASE_IMAGE, runtime="runc", bound=20, pull=False,
        command=["sh", "-c", "echo 'NVIDIA-SMI has failed: driver not loaded' >&2; exit 9"],
    )
    assert status.enabled is False
    assert status.reason == (
        "No GPU: sh exited with code 9: NVIDIA-SMI has failed: driver not loaded."
    )
    assert probe_containers(docker_client) == []


async def test_a_missing_probe_image_is_no_gpu(service, docker_client):
    status = await detect(service, "dshubtest-no-such-probe:none", bound=10, pull=False)
    assert status.enabled is False
    assert "dshubtest-no-such-probe:none is not on this host" in status.reason
    assert probe_containers(docker_client) == []


@pytest.fixture
def silent_registry() -> Iterator[str]:
    """A registry address on loopback that accepts connections and never answers.

    Nothing can be fetched from it: it only shows that a pull that hangs is cut off in time.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()


async def test_a_pull_that_hangs_ends_off_at_the_bound(service, docker_client, silent_registry):
    image = f"{silent_registry}/dshubtest-probe:none"
    started = time.monotonic()
    status = await detect(service, image, runtime="nvidia", bound=5, pull=True)
    assert time.monotonic() - started < 5 + SLACK
    assert status.enabled is False
    assert status.reason == f"No GPU: pulling the probe image {image} did not finish within 5 s."
    assert probe_containers(docker_client) == []


# --- a hub in each mode ----------------------------------------------------------------------


def start_hub(path, env: dict[str, str]) -> Hub:
    hub = Hub(path, base_url="/", env=env)
    hub.start()
    assert signup(hub, "admin").status_code == 200
    return hub


def gpu_section(admin: Portal, timeout: float = 60) -> str:
    """The admin area's GPU section once detection has settled."""
    deadline = time.monotonic() + timeout
    while True:
        r = admin.get("portal/admin/gpu")
        assert r.status_code == 200, r.text[:300]
        if 'data-gpu="detecting"' not in r.text or time.monotonic() > deadline:
            return r.text
        time.sleep(0.3)


def create_user(admin: Portal, name: str) -> Portal:
    r = admin.post("portal/admin/users", {"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return Portal(admin.hub, name)


def container_env(container) -> dict[str, str]:
    return dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])


@pytest.fixture(scope="module")
def gpu_hub(docker_client, probe_image, tmp_path_factory) -> Iterator[Hub]:
    hub = start_hub(tmp_path_factory.mktemp("gpu-hub"), {
        "ENABLE_GPU_SUPPORT": "2",
        "NVIDIA_AUTODETECT_IMAGE": probe_image,
        "DSHUB_TEST_GPU_RUNTIME": "runc",
        # The container whose start fails stays, so its real request can be inspected.
        "DSHUB_TEST_KEEP_CONTAINERS": "1",
    })
    yield hub
    hub.stop()


def test_detected_gpu_is_shown_to_admins_and_requested_for_every_lab(gpu_hub, docker_client):
    admin = Portal(gpu_hub, "admin")
    section = gpu_section(admin)
    assert 'data-gpu="on"' in section
    assert "ENABLE_GPU_SUPPORT=2" in section and "Detected:" in section
    assert f"NVIDIA GPUs detected: {FAKE_GPU}" in section
    page = admin.get("portal/admin/gpu", htmx=False)
    assert page.status_code == 200 and 'id="gpu-section"' in page.text
    assert probe_containers(docker_client) == []
    assert re.search(r"GPU detection \([\d.]+ s\): NVIDIA GPUs for the labs", gpu_hub.log_tail(200))

    user = create_user(admin, "gpu.user")
    r = user.post(f"portal/users/{user_path(user.name)}/start")
    assert r.status_code == 200, r.text
    assert wait_state(user, user.name, {"failed", "running"}) == "failed"
    container = docker_client.containers.get(f"{PREFIX}jupyterlab-gpu-2euser")
    assert container.attrs["HostConfig"]["DeviceRequests"] == [NVIDIA_REQUEST]
    env = container_env(container)
    assert (env["ENABLE_GPU_SUPPORT"], env["NVIDIA_DETECTED"]) == ("1", "1")
    # This engine has no NVIDIA runtime: the user reads Docker's own reason, not a generic one.
    card = user.get(f"portal/users/{user_path(user.name)}/card").text
    assert card_state(card) == "failed"
    assert (
        "The GPU could not be given to your server: could not select device driver "
        "&#34;nvidia&#34; with capabilities: [[gpu]]"
    ) in card


@pytest.fixture(scope="module")
def no_gpu_hub(docker_client, tmp_path_factory) -> Iterator[Hub]:
    # Detection under the real nvidia runtime, with a probe image that exists (no pull).
    hub = start_hub(tmp_path_factory.mktemp("no-gpu-hub"), {
        "ENABLE_GPU_SUPPORT": "2",
        "NVIDIA_AUTODETECT_IMAGE": BASE_IMAGE,
        "DSHUB_TEST_GPU_TIMEOUT": "20",
    })
    yield hub
    hub.stop()


def test_without_nvidia_the_hub_says_why_and_labs_run_without_gpu(no_gpu_hub, docker_client):
    admin = Portal(no_gpu_hub, "admin")
    section = gpu_section(admin)
    assert 'data-gpu="off"' in section and "Not detected:" in section
    assert "Unknown runtime specified nvidia" in section
    assert probe_containers(docker_client) == []
    took = re.search(r"GPU detection \(([\d.]+) s\): no GPU", no_gpu_hub.log_tail(200))
    assert took and float(took.group(1)) < 20

    user = create_user(admin, "standinnogpu")
    r = user.post(f"portal/users/{user_path(user.name)}/start")
    assert r.status_code == 200, r.text
    assert wait_state(user, user.name, {"failed", "running"}) == "running"
    container = docker_client.containers.get(f"{PREFIX}jupyterlab-standinnogpu")
    assert not container.attrs["HostConfig"]["DeviceRequests"]
    env = container_env(container)
    assert (env["ENABLE_GPU_SUPPORT"], env["NVIDIA_DETECTED"]) == ("0", "0")
    r = user.post(f"portal/users/{user_path(user.name)}/stop")
    assert r.status_code == 200, r.text
    assert wait_state(user, user.name, {"stopped"}) == "stopped"


def test_mode_1_requests_gpus_without_probing(docker_client, tmp_path_factory):
    hub = start_hub(tmp_path_factory.mktemp("gpu-on-hub"), {
        "ENABLE_GPU_SUPPORT": "1", "DSHUB_TEST_KEEP_CONTAINERS": "1",
    })
    try:
        admin = Portal(hub, "admin")
        section = admin.get("portal/admin/gpu").text
        assert 'data-gpu="on"' in section and "On:" in section
        user = create_user(admin, "gpuon")
        assert user.post(f"portal/users/{user_path(user.name)}/start").status_code == 200
        assert wait_state(user, user.name, {"failed", "running"}) == "failed"
        container = docker_client.containers.get(f"{PREFIX}jupyterlab-gpuon")
        assert container.attrs["HostConfig"]["DeviceRequests"] == [NVIDIA_REQUEST]
        env = container_env(container)
        assert (env["ENABLE_GPU_SUPPORT"], env["NVIDIA_DETECTED"]) == ("1", "0")
        assert "GPU detection" not in hub.log_path.read_text(errors="replace")
        assert probe_containers(docker_client) == []
    finally:
        hub.stop()


def test_mode_0_hub_shows_gpu_off_and_never_probes(hub, admin, docker_client):
    section = admin.get("portal/admin/gpu").text
    assert 'data-gpu="off"' in section and "ENABLE_GPU_SUPPORT=0" in section
    assert "GPU support is off" in section
    assert "GPU detection" not in hub.log_path.read_text(errors="replace")
    assert probe_containers(docker_client) == []
