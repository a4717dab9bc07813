"""Owns the hub-wide GPU decision and its auto-detection (`ENABLE_GPU_SUPPORT=2`).

Modes OFF (0) and ON (1) are decided without touching Docker (`settings_choices.GpuMode`).
DETECT (2) runs one probe when the hub starts: a container named `jupyterhub_nvidia_autodetect`
from `NVIDIA_AUTODETECT_IMAGE` running `nvidia-smi` under the `nvidia` runtime. Everything it
does (pull included) is bounded in time; any failure means "no GPU", with the reason logged and
shown to admins. The probe container is always removed, and one left by a hub that crashed is
removed before the next probe.

The decision lives in `GpuService` (the runtime's `gpu`); the spawner awaits it before it creates
a user's container.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from traitlets import Bool, Float, List, Unicode
from traitlets.config import LoggingConfigurable

from ..docker.service import DockerRefused, DockerService, DockerUnavailable
from ..platform.logs import portal_logger
from ..platform.settings import Settings
from ..platform.settings_choices import GpuMode
from ..platform.tasks import in_background
from ..platform.upstream import serving_hub

CONTAINER_NAME = "jupyterhub_nvidia_autodetect"
REMOVE_BOUND = 15.0  # seconds for removing the probe, on top of the detection's own bound

log = portal_logger("gpu")


@dataclass
class GpuStatus:
    mode: GpuMode
    enabled: bool
    reason: str


class GpuDetection(LoggingConfigurable):
    """How the probe runs. Production keeps the defaults; tests swap in a fake probe."""

    image = Unicode(
        "", help="Probe image; empty means NVIDIA_AUTODETECT_IMAGE."
    ).tag(config=True)
    runtime = Unicode(
        "nvidia",
        help="Container runtime of the probe. Only tests change it (runc with a fake nvidia-smi).",
    ).tag(config=True)
    command = List(
        Unicode(), default_value=["nvidia-smi", "-L"],
        help="Command of the probe; exit code 0 means the GPUs are usable.",
    ).tag(config=True)
    timeout = Float(
        45.0,
        help="Upper bound in seconds for the whole detection, pulling the image included. "
        "Kept below the spawner's start_timeout: a spawn during detection waits for it.",
    ).tag(config=True)
    pull = Bool(
        True, help="Pull the probe image when it is missing (within `timeout`)."
    ).tag(config=True)
    container_name = Unicode(
        CONTAINER_NAME,
        help="Name of the probe's container. Hubs sharing one engine (test runs) each need "
        "their own: a probe removes a leftover container of this name before it runs.",
    ).tag(config=True)


def fixed_status(mode: GpuMode) -> GpuStatus:
    """The decision for modes that need no probe."""
    if mode == GpuMode.ON:
        return GpuStatus(GpuMode.ON, True,
                         "ENABLE_GPU_SUPPORT=1: GPUs are requested without detection.")
    return GpuStatus(GpuMode.OFF, False, "ENABLE_GPU_SUPPORT=0: GPU support is off.")


def is_detected(status: GpuStatus) -> bool:
    """True when a probe found the GPUs (NVIDIA_DETECTED=1 in the labs)."""
    return status.mode == GpuMode.DETECT and status.enabled


async def detect(
    docker: DockerService,
    image: str,
    *,
    runtime: str = "nvidia",
    command: list[str] | None = None,
    bound: float = 45.0,
    pull: bool = True,
    name: str = CONTAINER_NAME,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> GpuStatus:
    """Run the probe once; never raises; done within `bound` s (+ REMOVE_BOUND to clean up)."""
    logger = logger or log
    command = list(command or ["nvidia-smi", "-L"])
    deadline = time.monotonic() + bound
    step = "removing an earlier probe container"
    try:
        # A hub that crashed mid-probe leaves its container; the name must be free again.
        if await docker.remove_container(name, bound=min(bound, REMOVE_BOUND)):
            logger.info("GPU detection: removed a probe container left by an earlier hub")
        step = f"looking for the probe image {image}"
        if not await docker.image_present(image):
            if not pull:
                return _off(f"the probe image {image} is not on this host (pulling is off)")
            step = f"pulling the probe image {image}"
            logger.info("GPU detection: pulling %s (at most %.0f s)", image, _left(deadline))
            await docker.pull_image(image, bound=_left(deadline))
        step = f"running {' '.join(command)} under the {runtime} runtime"
        result = await docker.run_to_end(
            name, image, command, runtime=runtime, bound=_left(deadline),
            # Images other than nvidia/cuda may not ask the runtime for the GPUs themselves.
            environment={"NVIDIA_VISIBLE_DEVICES": "all"},
        )
        output = " | ".join(line.strip() for line in result.output.splitlines() if line.strip())
        if result.exit_code == 0:
            found = output[:300] or "it exited with code 0"
            return GpuStatus(GpuMode.DETECT, True, f"NVIDIA GPUs detected: {found}")
        return _off(f"{command[0]} exited with code {result.exit_code}: {output[:300] or '-'}")
    except DockerRefused as e:
        return _off(f"Docker refused while {step}: {e}")
    except DockerUnavailable as e:
        if time.monotonic() >= deadline:
            return _off(f"{step} did not finish within {bound:g} s")
        return _off(f"Docker failed while {step}: {e}")
    except Exception as e:  # detection must never take the hub down
        logger.exception("GPU detection failed unexpectedly")
        return _off(f"the probe failed while {step}: {e}")
    finally:
        # Always, including after a timeout or a cancellation: no probe outlives detection.
        await _remove_probe(docker, name, logger)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.1)


def _off(why: str) -> GpuStatus:
    return GpuStatus(GpuMode.DETECT, False, f"No GPU: {why}.")


async def _remove_probe(docker: DockerService, name: str,
                        logger: logging.Logger | logging.LoggerAdapter) -> None:
    try:
        await docker.remove_container(name, bound=REMOVE_BOUND)
    except Exception as e:  # the next hub start removes it as a stale probe
        logger.warning("GPU detection: could not remove %s: %s", name, e)


class GpuService:
    """The hub's GPU decision: `status` once decided, None while the probe (`ready`) runs."""

    def __init__(self, settings: Settings, docker: DockerService) -> None:
        self.settings, self.docker = settings, docker
        self.status: GpuStatus | None = None
        self.ready: asyncio.Task | None = None  # DETECT's probe task, started at hub start

    def start(self) -> asyncio.Task | None:
        """Settle the decision for modes OFF/ON, or start the one probe of DETECT (hub start)."""
        mode = self.settings.gpu_mode
        if not mode.probes:
            self.status = fixed_status(mode)
            return None
        app = serving_hub()
        if app is None:
            self.status = GpuStatus(
                GpuMode.DETECT, False, "No GPU: detection runs only when the hub starts, and "
                "this configuration was loaded for another purpose.",
            )
            return None
        self.status = None  # pending: the admin area says "detecting", spawns wait
        self.ready = in_background(self._detect_for_hub(app), "GPU detection")
        return self.ready

    async def _detect_for_hub(self, app: Any) -> GpuStatus:
        started = time.monotonic()
        logger: logging.Logger | logging.LoggerAdapter = log
        try:
            # Built here, not in setup(): the task first runs once the whole config file (and
            # any file loading it, like the tests') is applied to the app, so every setting is in.
            knobs = GpuDetection(parent=app)
            logger = knobs.log
            image = knobs.image or self.settings.gpu_probe_image
            logger.info(
                "GPU detection: probing with %s (%s runtime, at most %.0f s)",
                image, knobs.runtime, knobs.timeout,
            )
            status = await detect(
                self.docker, image, runtime=knobs.runtime, command=knobs.command,
                bound=knobs.timeout, pull=knobs.pull, name=knobs.container_name, logger=logger,
            )
        except asyncio.CancelledError:
            self.status = GpuStatus(GpuMode.DETECT, False,
                                    "No GPU: detection was cancelled (the hub is stopping).")
            raise
        except Exception as e:  # e.g. a GpuDetection setting of the wrong type
            logger.exception("GPU detection could not run")
            status = _off(f"detection could not run: {e}")
        self.status = status
        level = logging.INFO if status.enabled else logging.WARNING
        logger.log(
            level, "GPU detection (%.1f s): %s for the labs. %s", time.monotonic() - started,
            "NVIDIA GPUs" if status.enabled else "no GPU", status.reason,
        )
        return status

    async def settled(self) -> GpuStatus:
        """The hub's GPU decision, waiting for a detection that is still running."""
        if self.status is None and self.ready is not None:
            # Shielded: a spawn that gives up must not cancel the hub-wide detection.
            await asyncio.shield(self.ready)
        if self.status is None:  # start() never ran (a runtime built outside setup())
            mode = self.settings.gpu_mode
            self.status = fixed_status(mode if mode == GpuMode.ON else GpuMode.OFF)
        return self.status

    async def decision(self) -> tuple[bool, bool]:
        """(request GPUs?, did a probe find them?) for a container about to be created."""
        status = await self.settled()
        return status.enabled, is_detected(status)
