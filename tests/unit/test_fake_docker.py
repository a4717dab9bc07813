"""The in-memory engine of the in-process suite (tests/support/fake_docker.py) answers as Docker
does: 404 for a missing object, 409 for a taken name, a running container removed without
force or a volume in use; seen raw (docker-py's errors) and through the portal's DockerService
(ContainerMissing, VolumeInUse, DockerUnavailable)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from docker.errors import APIError, NotFound

from portal.docker.service import DockerService
from portal.docker.types import ContainerMissing, VolumeInUse
from portal.platform.errors import DockerUnavailable
from tests.support.fake_docker import FakeEngine, service_over

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

IMAGE = "dshub-lab:latest"


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def service(engine) -> Iterator[DockerService]:
    with service_over(engine) as s:
        yield s


def lab(engine: FakeEngine, name: str, *volumes: str) -> str:
    """A container mounting `volumes` (named volumes, made on create as the engine does)."""
    binds = {v: {"bind": f"/mnt/{i}", "mode": "rw"} for i, v in enumerate(volumes)}
    host_config = engine.create_host_config(binds=binds)
    return engine.create_container(IMAGE, name=name, host_config=host_config)["Id"]


def test_a_missing_container_is_a_404(engine):
    with pytest.raises(NotFound) as raised:
        engine.inspect_container("nobody")
    assert raised.value.status_code == 404


async def test_the_service_words_a_missing_container_as_the_portal_does(engine, service):
    with pytest.raises(ContainerMissing):
        await service.container("nobody")
    with pytest.raises(ContainerMissing):
        await service.restart("nobody")
    with pytest.raises(ContainerMissing):
        await service.log_tail("nobody")
    assert await service.remove_container("nobody") is False


async def test_a_container_is_found_by_name_and_by_id_and_reports_its_state(engine, service):
    container_id = lab(engine, "jupyterlab-ann")
    assert (await service.container("jupyterlab-ann")).status == "created"
    engine.start(container_id[:12])  # an id prefix, as the engine accepts
    info = await service.container("jupyterlab-ann")
    assert (info.id, info.status) == (container_id, "running")
    engine.exit("jupyterlab-ann", 137, oom=True)
    info = await service.container("jupyterlab-ann")
    assert (info.status, info.exit_code, info.oom_killed) == ("exited", 137, True)


def test_a_taken_container_name_is_a_409(engine):
    lab(engine, "jupyterlab-ann")
    with pytest.raises(APIError) as raised:
        lab(engine, "jupyterlab-ann")
    assert raised.value.status_code == 409 and "already in use" in str(raised.value)


def test_a_running_container_is_removed_only_with_force(engine):
    engine.start(lab(engine, "jupyterlab-ann"))
    with pytest.raises(APIError) as raised:
        engine.remove_container("jupyterlab-ann")
    assert raised.value.status_code == 409
    engine.remove_container("jupyterlab-ann", force=True)
    assert engine.container_records == {}


async def test_a_volume_in_use_cannot_be_removed_even_by_a_stopped_container(engine, service):
    engine.start(lab(engine, "jupyterlab-ann", "jupyterlab-ann_home"))
    assert await service.containers_using("jupyterlab-ann_home") == ["jupyterlab-ann"]
    with pytest.raises(APIError) as raised:
        engine.remove_volume("jupyterlab-ann_home", force=True)  # force does not help either
    assert raised.value.status_code == 409
    with pytest.raises(VolumeInUse):
        await service.remove_volume("jupyterlab-ann_home")
    engine.stop("jupyterlab-ann")
    with pytest.raises(VolumeInUse):  # a stopped container still holds it
        await service.remove_volume("jupyterlab-ann_home")
    # Removing the container (with v=True) keeps named volumes; then the volume can go.
    assert await service.remove_container("jupyterlab-ann") is True
    assert engine.volume_names() == ["jupyterlab-ann_home"]
    assert await service.remove_volume("jupyterlab-ann_home") is True
    assert await service.remove_volume("jupyterlab-ann_home") is False  # a 404: already gone


async def test_volumes_labels_filters_and_sizes(engine, service):
    engine.create_volume("jupyterlab-ann_home", labels={"dshub.owner": "ann"})
    engine.create_volume("jupyterlab-bob_home")
    # Creating an existing volume hands it back unchanged, as the engine does.
    assert engine.create_volume("jupyterlab-ann_home")["Labels"] == {"dshub.owner": "ann"}
    engine.sizes["jupyterlab-ann_home"] = 4096
    assert await service.existing_volumes() == {"jupyterlab-ann_home", "jupyterlab-bob_home"}
    assert await service.volume_labels("jupyterlab-ann_home") == {"dshub.owner": "ann"}
    assert await service.volume_labels("nothing") is None
    assert [v["Name"] for v in await service.labelled_volumes("dshub.owner")] == [
        "jupyterlab-ann_home"]
    assert (await service.volume_usage())["jupyterlab-ann_home"] == 4096
    with pytest.raises(NotFound):
        engine.inspect_volume("nothing")


async def test_images_and_an_unreachable_engine(engine, service):
    assert await service.image_present(IMAGE) is True
    assert await service.image_present("other:latest") is False
    with pytest.raises(NotFound):
        engine.create_container("other:latest", name="x")
    await service.ping()
    engine.up = False
    service._ping_ok_at = float("-inf")  # the last success is no longer trusted
    with pytest.raises(DockerUnavailable):
        await service.ping()
    with pytest.raises(DockerUnavailable):
        await service.container("jupyterlab-ann")
