"""Image updates (issue 25), without a hub: the fake engine's images behave as Docker's (a tag
names an ID and moves; a container keeps its ID), the portal reads them through DockerService,
a tag's ID is asked at most once per TTL however many cards ask, and the admins' listing groups
running labs by image with the outdated ones counted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from docker.errors import NotFound

from portal.docker.images import created_at
from portal.docker.service import DockerService
from portal.docker.types import ContainerInfo, ImageInfo, RunningContainer
from portal.governance.image_updates import (
    IMAGE_TTL,
    ImageUpdates,
    LabImage,
    age_words,
    group_by_image,
    short_id,
)
from portal.platform.errors import DockerUnavailable
from tests.support.fake_docker import FakeEngine, service_over

pytestmark = pytest.mark.default_line_only

LAB, NOEXT = "dshub-lab:latest", "dshub-lab-noext:latest"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(images=(LAB, NOEXT))


@pytest.fixture
def service(engine) -> Iterator[DockerService]:
    with service_over(engine) as s:
        yield s


def updates_over(service: DockerService, clock: Clock) -> ImageUpdates:
    async def engines() -> list[tuple[str, DockerService]]:
        return [("this hub's Docker engine", service)]

    return ImageUpdates(engines, clock=clock)


def test_the_fake_engine_moves_tags_and_containers_keep_their_image(engine):
    lab_id, noext_id = engine.inspect_image(LAB)["Id"], engine.inspect_image(NOEXT)["Id"]
    assert lab_id != noext_id and lab_id.startswith("sha256:")
    assert engine.inspect_image("dshub-lab")["Id"] == lab_id  # no tag: latest
    assert engine.inspect_image(lab_id[7:19])["Id"] == lab_id  # a short ID, as docker takes
    engine.tag(NOEXT, "dshubtest-im-lab", "latest")
    engine.create_container("dshubtest-im-lab:latest", name="lab")
    engine.start("lab")
    engine.tag(LAB, "dshubtest-im-lab")  # the tag moves; the container keeps its image
    record = engine.inspect_container("lab")
    assert (record["Image"], record["Config"]["Image"]) == (noext_id, "dshubtest-im-lab:latest")
    assert engine.inspect_image("dshubtest-im-lab")["RepoTags"] == [LAB, "dshubtest-im-lab:latest"]
    assert engine.inspect_image(noext_id)["RepoTags"] == [NOEXT]
    [row] = engine.containers()
    assert row["ImageID"] == noext_id and row["Image"] == noext_id  # the tag names another
    with pytest.raises(NotFound):
        engine.inspect_image("nothing:here")
    with pytest.raises(NotFound):
        engine.tag("nothing:here", "x")


async def test_the_service_reads_images_and_running_containers(engine, service):
    lab = await service.image("dshub-lab")
    assert lab is not None and lab.tags == (LAB,) and lab.size > 0 and lab.created > 0
    assert await service.image("nothing:here") is None
    assert {i.id for i in await service.image_list()} == {lab.id, (await service.image(NOEXT)).id}
    engine.create_container(LAB, name="jupyterlab-ann")
    engine.start("jupyterlab-ann")
    engine.create_container(LAB, name="stopped")
    assert await service.running_containers() == [
        RunningContainer(("jupyterlab-ann",), lab.id, "")]
    info = await service.container("jupyterlab-ann")
    assert (info.image, info.image_id) == (LAB, lab.id)


async def test_a_tags_id_is_asked_once_per_ttl_however_many_cards_ask(engine, service):
    clock = Clock()
    updates = updates_over(service, clock)
    lab_id = engine.inspect_image(LAB)["Id"]
    engine.calls.clear()
    found = await asyncio.gather(*(updates.current_id(service, "dshub-lab") for _ in range(50)))
    assert set(found) == {lab_id} and engine.calls.count("inspect_image") == 1
    clock.now += IMAGE_TTL / 2
    assert await updates.current_id(service, LAB) == lab_id  # the same reference, normalised
    assert engine.calls.count("inspect_image") == 1
    engine.tag(NOEXT, "dshub-lab")
    clock.now += IMAGE_TTL  # expired: asked again, and the moved tag seen
    assert await updates.current_id(service, LAB) == engine.inspect_image(NOEXT)["Id"]
    assert await updates.current_id(service, LAB, fresh=True) != lab_id  # an action asks now
    assert updates.lookups == 3
    assert await updates.current_id(service, "nothing:here") == ""  # named nothing: no update


async def test_no_answer_is_not_remembered(engine, service):
    updates = updates_over(service, Clock())
    engine.up = False
    with pytest.raises(DockerUnavailable):
        await updates.current_id(service, LAB)
    engine.up = True
    assert await updates.current_id(service, LAB) == engine.inspect_image(LAB)["Id"]


async def test_newer_compares_ids_only(engine, service):
    updates = updates_over(service, Clock())
    lab_id, noext_id = engine.inspect_image(LAB)["Id"], engine.inspect_image(NOEXT)["Id"]

    def running(image: str, image_id: str) -> ContainerInfo:
        return ContainerInfo("c", "running", 0, "", image_id=image_id, image=image)

    assert await updates.newer(service, running(LAB, lab_id)) == ""
    assert await updates.newer(service, running(LAB, noext_id)) == lab_id
    assert await updates.newer(service, running("gone:1", lab_id)) == ""  # the tag was removed
    assert await updates.newer(service, running(noext_id, noext_id)) == ""  # made from an ID
    assert await updates.newer(service, running("", "")) == ""  # nothing known (a Swarm task)


def test_group_by_image_counts_servers_and_the_outdated():
    old, new = ImageInfo("sha256:" + "a" * 64, (), 1.0, 5), ImageInfo("sha256:" + "b" * 64,
                                                                         (LAB,), 2.0, 6)
    labs = [LabImage("ann", "jupyterlab-ann", LAB), LabImage("bob", "jupyterlab-bob", "dshub-lab"),
            LabImage("cy", "jupyterlab-cy", LAB), LabImage("dee", "elsewhere", LAB)]
    running = [RunningContainer(("jupyterlab-ann",), old.id),
               RunningContainer(("jupyterlab-bob",), new.id),
               RunningContainer(("jupyterlab-cy.1.x",), old.id, service="jupyterlab-cy")]
    rows = group_by_image(labs, running, [old, new], {LAB: new.id, "dshub-lab": new.id})
    assert [(r.image, r.users, r.outdated, r.moved) for r in rows] == [
        (old, ["ann", "cy"], ["ann", "cy"], {LAB: new.id}),  # most used first
        (new, ["bob"], [], {}),
    ]
    # An image the listing lacks (removed since) still shows by its ID.
    [row] = group_by_image(labs[:1], running, [], {})
    assert row.image == ImageInfo(old.id, (), 0.0, 0) and row.age() == "unknown"


async def test_in_use_says_which_engine_did_not_answer(engine, service):
    updates = updates_over(service, Clock())
    engine.create_container(NOEXT, name="jupyterlab-ann")
    engine.start("jupyterlab-ann")
    [here] = await updates.in_use([LabImage("ann", "jupyterlab-ann", NOEXT)])
    assert here.where == "this hub's Docker engine" and here.problem == ""
    assert [(short_id(r.image.id), r.users, r.image.tags) for r in here.images] == [
        (short_id(engine.inspect_image(NOEXT)["Id"]), ["ann"], (NOEXT,))]
    engine.up = False
    [here] = await updates.in_use([LabImage("ann", "jupyterlab-ann", NOEXT)])
    assert here.images == [] and "Docker cannot be reached" in here.problem


def test_times_and_words():
    assert created_at("2026-12-07T08:00:00.123456789Z") == created_at("2026-12-07T08:00:00.123456Z")
    at = datetime(2026, 12, 7, 8, tzinfo=UTC).timestamp()
    assert created_at("2026-12-07T08:00:00Z") == at and created_at(int(at)) == at
    assert created_at("yesterday") == created_at(None) == 0.0
    assert [age_words(s) for s in (5, 60, 7200, 86400 * 3, 86400 * 400)] == [
        "just now", "1 minute ago", "2 hours ago", "3 days ago", "1 year ago"]
    assert short_id("sha256:" + "0123456789abcdef" * 4) == "0123456789ab"
