"""GPU decision without Docker: when a probe may start, what spawns and the admin section get.

The probe itself runs against the real engine in tests/integration/test_gpu.py; here a
recording stand-in proves that no probe is even attempted where none may run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
from dockerspawner import DockerSpawner
from jupyterhub.app import JupyterHub
from markupsafe import escape
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

import portal
from portal.docker.service import DockerService, DockerUnavailable, RunResult
from portal.governance import gpu
from portal.governance.gpu import GpuService, GpuStatus
from portal.lab.container_policy import enforce_host_config
from portal.platform import tasks
from portal.platform.settings import load_settings
from tests.unit.test_spawner_names import make_spawner

CONFIG = Path(portal.__file__).resolve().parents[1] / "config" / "jupyterhub_config.py"


@pytest.fixture
def probes(monkeypatch) -> list[str]:
    """Every Docker call a probe would make, recorded instead of sent."""
    calls: list[str] = []

    def record(name):
        async def call(self, *args, **kwargs):
            calls.append(name)
            raise AssertionError(f"no probe may run here, but {name} was called")

        return call

    for name in ("remove_container", "image_present", "pull_image", "run_to_end"):
        monkeypatch.setattr(DockerService, name, record(name))
    return calls


@pytest.fixture
def no_hub_app():
    """No JupyterHub singleton before or after (other tasks may create one)."""
    JupyterHub.clear_instance()
    yield
    for task in list(tasks._running):  # the group guard's wait for a hub that never comes
        loop = task.get_loop()
        # Never a loop running in another thread (an in-process test hub's): not ours, and
        # cancelling across threads is not safe.
        if not loop.is_closed() and not loop.is_running():
            task.cancel()
    JupyterHub.clear_instance()


def load_config(monkeypatch, tmp_path, mode: str):
    """Load config/jupyterhub_config.py the way any tool would, and return the portal runtime."""
    monkeypatch.setenv("ENABLE_GPU_SUPPORT", mode)
    monkeypatch.setenv("JUPYTERHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    config = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
    return config.JupyterHub.tornado_settings["dshub_portal"], config


@pytest.mark.parametrize("mode", ["0", "1", "2"])
def test_plain_config_import_starts_no_probe(monkeypatch, tmp_path, probes, no_hub_app, mode):
    runtime, config = load_config(monkeypatch, tmp_path, mode)
    assert probes == []
    assert runtime.gpu.ready is None
    assert runtime.gpu.status.mode == int(mode)
    assert runtime.gpu.status.enabled is (mode == "1")
    assert config.PortalSpawner.gpu_enabled is (mode == "1")
    if mode == "2":
        assert "loaded for another purpose" in runtime.gpu.status.reason


@pytest.mark.parametrize("mode", ["0", "1", "2"])
async def test_config_import_inside_a_loop_without_a_hub_starts_no_probe(
    monkeypatch, tmp_path, probes, no_hub_app, mode
):
    runtime, _ = load_config(monkeypatch, tmp_path, mode)
    # A probe is scheduled while the config loads, or never: nothing to wait for.
    assert "GPU detection" not in tasks.running()
    assert probes == []
    assert runtime.gpu.ready is None
    assert runtime.gpu.status is not None


@pytest.mark.parametrize(
    "flag", ["show_config", "show_config_json", "generate_certs", "generate_config"]
)
async def test_hub_commands_other_than_serving_start_no_probe(
    monkeypatch, tmp_path, probes, no_hub_app, flag
):
    JupyterHub.instance(**{flag: True})
    runtime, _ = load_config(monkeypatch, tmp_path, "2")
    assert "GPU detection" not in tasks.running()
    assert probes == [] and runtime.gpu.ready is None


@pytest.mark.parametrize("mode", ["0", "1"])
async def test_modes_0_and_1_never_probe_even_in_a_starting_hub(
    monkeypatch, tmp_path, probes, no_hub_app, mode
):
    JupyterHub.instance()  # as `jupyterhub` itself is while it loads the config file
    runtime, _ = load_config(monkeypatch, tmp_path, mode)
    assert "GPU detection" not in tasks.running()
    assert probes == [] and runtime.gpu.ready is None
    assert runtime.gpu.status == gpu.fixed_status(int(mode))


async def test_a_starting_hub_in_mode_2_probes_once_with_its_settings(
    monkeypatch, tmp_path, no_hub_app
):
    seen = []

    async def fake_detect(docker, image, **kw):
        seen.append((image, kw["runtime"], kw["command"], kw["bound"], kw["pull"]))
        return GpuStatus(2, True, "NVIDIA GPUs detected: GPU 0: test")

    monkeypatch.setattr(gpu, "detect", fake_detect)
    monkeypatch.setenv("NVIDIA_AUTODETECT_IMAGE", "probe:1")
    app = JupyterHub.instance()
    runtime, _ = load_config(monkeypatch, tmp_path, "2")
    # Set after setup() ran, like the test hub's config file does: the task still sees them.
    app.update_config(Config({"GpuDetection": {"runtime": "runc", "timeout": 7.0}}))
    assert runtime.gpu.status is None and runtime.gpu.ready is not None
    status = await runtime.gpu.settled()
    assert status == GpuStatus(2, True, "NVIDIA GPUs detected: GPU 0: test")
    assert seen == [("probe:1", "runc", ["nvidia-smi", "-L"], 7.0, True)]


def test_fixed_statuses():
    assert gpu.fixed_status(0) == GpuStatus(0, False, "ENABLE_GPU_SUPPORT=0: GPU support is off.")
    assert gpu.fixed_status(1).enabled is True
    assert not gpu.is_detected(gpu.fixed_status(1))
    assert gpu.is_detected(GpuStatus(2, True, "found"))
    assert not gpu.is_detected(GpuStatus(2, False, "none"))


# --- the spawner follows the decision ----------------------------------------------------------


def runtime_for(mode: int, status: GpuStatus | None) -> SimpleNamespace:
    """What the spawner's hook and the admin section read: the settings and the GPU service."""
    settings = load_settings({"ENABLE_GPU_SUPPORT": str(mode)})
    service = GpuService(settings, DockerService())
    service.status = status
    return SimpleNamespace(settings=settings, gpu=service)


@pytest.mark.parametrize(
    ("mode", "status", "request_gpu", "env"),
    [
        (0, gpu.fixed_status(0), False, ("0", "0")),
        (1, gpu.fixed_status(1), True, ("1", "0")),
        (2, GpuStatus(2, True, "found"), True, ("1", "1")),
        (2, GpuStatus(2, False, "No GPU: none"), False, ("0", "0")),
    ],
)
async def test_spawner_takes_the_hub_decision(monkeypatch, mode, status, request_gpu, env):
    monkeypatch.setattr(DockerSpawner, "get_env", lambda self: {"ENABLE_GPU_SUPPORT": str(mode)})
    spawner = make_spawner(gpu_enabled=not request_gpu)  # the trait is overridden
    runtime = runtime_for(mode, status)
    spawner.gpu_decision = runtime.gpu.decision
    await spawner._follow_gpu_decision()
    config: dict = {}
    enforce_host_config(config, docker_socket=False, privileged=False, gpu=spawner.gpu_enabled)
    assert bool(config["DeviceRequests"]) is request_gpu
    got = spawner.get_env()
    assert (got["ENABLE_GPU_SUPPORT"], got["NVIDIA_DETECTED"]) == env


async def test_spawner_waits_for_a_running_detection():
    runtime = runtime_for(2, None)

    async def detection():
        await asyncio.sleep(0.2)
        runtime.gpu.status = GpuStatus(2, True, "found")
        return runtime.gpu.status

    runtime.gpu.ready = asyncio.ensure_future(detection())
    spawner = make_spawner()
    spawner.gpu_decision = runtime.gpu.decision
    await spawner._follow_gpu_decision()
    assert spawner.gpu_enabled is True and spawner.gpu_detected is True


async def test_a_spawn_that_gives_up_does_not_cancel_the_detection():
    runtime = runtime_for(2, None)
    release = asyncio.Event()

    async def detection():
        await release.wait()
        runtime.gpu.status = GpuStatus(2, False, "No GPU: none")

    runtime.gpu.ready = asyncio.ensure_future(detection())
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(runtime.gpu.settled(), 0.05)
    assert not runtime.gpu.ready.cancelled()
    release.set()
    assert (await runtime.gpu.settled()).reason == "No GPU: none"


def test_spawner_without_portal_keeps_its_trait():
    spawner = make_spawner(gpu_enabled=True)
    asyncio.run(spawner._follow_gpu_decision())
    assert spawner.gpu_enabled is True


# --- detect(): control flow around the Docker calls (the calls are tested for real) ----------


class ScriptedDocker:
    """Answers like DockerService; `hang` makes one step take longer than any bound."""

    def __init__(self, present=True, result: RunResult | None = None, hang=""):
        self.present, self.hang = present, hang
        self.result = result or RunResult(0, "GPU 0: X")
        self.removed: list[str] = []
        self.running = asyncio.Event()  # the probe container "runs"

    async def remove_container(self, name, bound=15):
        self.removed.append(name)
        return False

    async def image_present(self, image):
        return self.present

    async def pull_image(self, image, bound):
        if self.hang == "pull":
            await asyncio.sleep(bound)
            raise DockerUnavailable("the Docker engine did not answer in time")

    async def run_to_end(self, name, image, command, runtime, bound, environment=None):
        self.running.set()
        if self.hang == "run":
            await asyncio.sleep(3600)
        return self.result


async def test_missing_image_without_pull_is_no_gpu():
    docker = ScriptedDocker(present=False)
    status = await gpu.detect(docker, "probe:1", pull=False)
    assert status.enabled is False
    assert "probe:1 is not on this host" in status.reason
    assert docker.removed == [gpu.CONTAINER_NAME, gpu.CONTAINER_NAME]


async def test_a_pull_that_hangs_ends_as_no_gpu_at_the_bound():
    docker = ScriptedDocker(present=False, hang="pull")
    # The guard only stops a hang from stalling the suite; the reason proves the bound fired.
    status = await asyncio.wait_for(gpu.detect(docker, "probe:1", bound=0.3), 60)
    assert status.reason == "No GPU: pulling the probe image probe:1 did not finish within 0.3 s."


async def test_a_cancelled_detection_still_removes_the_probe():
    docker = ScriptedDocker(hang="run")
    task = asyncio.ensure_future(gpu.detect(docker, "probe:1"))
    await asyncio.wait_for(docker.running.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert docker.removed == [gpu.CONTAINER_NAME, gpu.CONTAINER_NAME]


async def test_a_failing_probe_reports_its_exit_code_and_output():
    docker = ScriptedDocker(result=RunResult(9, "NVIDIA-SMI has failed\nno driver"))
    status = await gpu.detect(docker, "probe:1")
    assert status == GpuStatus(
        2, False, "No GPU: nvidia-smi exited with code 9: NVIDIA-SMI has failed | no driver."
    )


# --- the admin section renders alone in every state -----------------------------------------


@pytest.mark.parametrize(
    ("mode", "status", "state", "words"),
    [
        (2, None, "detecting", "Detecting…"),
        (2, GpuStatus(2, True, "NVIDIA GPUs detected: GPU 0: <A100>"), "on", "Detected:"),
        (2, GpuStatus(2, False, "No GPU: nope."), "off", "Not detected:"),
        (1, gpu.fixed_status(1), "on", "On:"),
        (0, gpu.fixed_status(0), "off", "Off:"),
    ],
)
def test_admin_section_renders_alone(mode, status, state, words):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(portal.__file__).parent)), autoescape=True
    )
    html = env.get_template("partials/admin_gpu_section.html").render(
        runtime=runtime_for(mode, status), portal_url=lambda *p: "/hub/portal/" + "/".join(p)
    )
    assert f'data-gpu="{state}"' in html
    assert words in html
    assert f"ENABLE_GPU_SUPPORT={mode}" in html
    assert ('hx-trigger="every 2s"' in html) is (status is None)
    if status is not None:
        assert str(escape(status.reason)) in html
