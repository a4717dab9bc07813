"""EnvironmentService over a real store (SQLite) and fake engines: where an image is missing
(one engine, Swarm nodes), the configuration's first environments, and what a start gets."""

from __future__ import annotations

import asyncio
import logging

import pytest

from portal.audit.log import AuditEvent, AuditLog
from portal.governance.environment_service import EnvironmentService
from portal.governance.gpu import GpuService, fixed_status
from portal.governance.limits import Limits, LimitsService
from portal.platform.errors import ActionRefused, DockerUnavailable
from portal.platform.settings import load_settings
from portal.platform.settings_choices import GpuMode
from portal.store.database import PortalStore

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

GIB = 1024**3


class Engine:
    """An engine's answer to "is this image here?" (DockerService.image_present)."""

    def __init__(self, *images: str, up: bool = True) -> None:
        self.images, self.up = set(images), up

    async def image_present(self, image: str) -> bool:
        if not self.up:
            raise DockerUnavailable("the node did not answer")
        return image in self.images


def service(tmp_path, engines: list[tuple[str, Engine]]) -> tuple[EnvironmentService, list]:
    store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
    audit = AuditLog(store)
    heard: list[AuditEvent] = []
    audit.subscribe(heard.append)
    gpu = GpuService(load_settings({}), None)  # type: ignore[arg-type]
    gpu.status = fixed_status(GpuMode.OFF)

    async def where() -> list:
        return engines

    limits = LimitsService(store, audit, Limits(2 * GIB, None))
    return EnvironmentService(store, audit, limits, gpu, where), heard


def test_an_image_missing_on_swarm_nodes_is_refused_naming_them(tmp_path):
    envs, heard = service(tmp_path, [("Swarm node a", Engine("dshub-lab:latest")),
                                     ("Swarm node b", Engine()), ("Swarm node c", Engine())])

    async def run() -> None:
        with pytest.raises(ActionRefused) as refused:
            await envs.save(None, "admin", {"name": "x", "image": "dshub-lab"})
        assert refused.value.status == 400
        assert refused.value.message.startswith(
            "The image dshub-lab:latest is not on Swarm node b or Swarm node c. Build it there "
            "(scripts/build-images.sh builds dshub-lab and dshub-lab-noext) or load it")
        assert await envs.all() == [] and heard == []

    asyncio.run(run())


def test_an_engine_that_does_not_answer_is_a_503_and_changes_nothing(tmp_path):
    envs, heard = service(tmp_path, [("Swarm node a", Engine(up=False))])

    async def run() -> None:
        with pytest.raises(ActionRefused) as refused:
            await envs.save(None, "admin", {"name": "x", "image": "dshub-lab"})
        assert refused.value.status == 503 and "on Swarm node a" in refused.value.message
        assert await envs.all() == [] and heard == []

    asyncio.run(run())


def test_the_configured_first_environments_come_only_into_an_empty_store(tmp_path, caplog):
    envs, heard = service(tmp_path, [("this hub's Docker engine", Engine("dshub-lab:latest"))])
    configured = [{"name": "py", "image": "dshub-lab", "memory": "4G", "cpus": 1},
                  {"name": "gone", "image": "not-built:1"}, {"name": "Bad"}]

    # The logger's own handler: a hub set up earlier in this worker (in-process tests) stops
    # JupyterHub's loggers propagating to the root, where caplog listens by default.
    logger = logging.getLogger("JupyterHub.portal.environments")

    async def run() -> None:
        logger.addHandler(caplog.handler)
        try:
            with caplog.at_level(logging.ERROR, logger=logger.name):
                await envs.add_initial(None, configured)
        finally:
            logger.removeHandler(caplog.handler)
        assert [e.name for e in await envs.all()] == ["py"]
        assert [(e.actor, e.target, e.detail.split(":")[0]) for e in heard] == [
            ("(hub)", "py", "added")]
        said = " ".join(r.getMessage() for r in caplog.records)
        assert "'gone' not added: The image not-built:1 is not on" in said
        assert "'Bad' not added" in said
        await envs.add_initial(None, [{"name": "later", "image": "dshub-lab"}])
        assert [e.name for e in await envs.all()] == ["py"]  # the store holds some: kept as is
        # A start: the environment's defaults under the groups' caps (default 2G, no CPU limit).
        lab = await envs.for_start({"environment": "py"}, set())
        assert (lab.name, lab.image, lab.memory, lab.cpus) == ("py", "dshub-lab:latest",
                                                               2 * GIB, 1.0)
        assert await envs.limits_of("py", set()) == Limits(2 * GIB, 1.0)
        assert await envs.limits_of("", set()) == Limits(2 * GIB, None)
        fresh, _ = service(tmp_path, [])
        assert [e.name for e in await fresh.all()] == ["py"]  # from the store, not memory

    asyncio.run(run())
