"""Every server state x every action, with fakes of the spawner and the Docker service.

Pure logic of portal/servers/view.py, server_actions.py and volume_service.py: what the card
shows in each state, which actions are accepted, and how each refusal reads. The real-Docker
tests (tests/integration) check the same paths end to end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from portal.docker.types import ContainerInfo, ContainerMissing, ImageInfo
from portal.lab.location import OneEngine
from portal.lab.volume_names import UserVolume
from portal.operations.action_names import ServerAction
from portal.operations.states import OPERATION_CARDS, CardState, OperationKind
from portal.platform import tasks
from portal.platform.errors import ActionRefused, DockerUnavailable
from portal.platform.settings import load_settings
from portal.runtime import Runtime
from portal.runtime_factory import build_runtime
from portal.servers.actions import HubActions, act
from portal.servers.view import server_view
from portal.store.database import PortalStore
from portal.volumes.service import reset_volumes

# Fakes of the spawner and Docker: nothing here comes from JupyterHub, so the other line's pass
# (scripts/test.sh) leaves this file out.
pytestmark = pytest.mark.default_line_only


class FakeDocker:
    """The Docker service as the state machine sees it: up or down, the container's state."""

    def __init__(self, up: bool, container: str | None, tag_names: str = "sha256:old") -> None:
        self.up = up
        self.container_status = container  # None: no such container
        self.tag_names = tag_names  # the image ID the container's tag names now
        self.removed: list[str] = []

    def _check(self) -> None:
        if not self.up:
            raise DockerUnavailable("the Docker engine is not reachable")

    async def ping(self) -> None:
        self._check()

    async def container(self, name: str) -> ContainerInfo:
        self._check()
        if self.container_status is None:
            raise ContainerMissing(name)
        return ContainerInfo("id", self.container_status, 0, "", image_id="sha256:old",
                             image="dshub-lab:latest")

    async def image(self, reference: str) -> ImageInfo | None:
        self._check()
        return ImageInfo(self.tag_names, (reference,), 0.0, 0)

    async def restart(self, name: str) -> str:
        self._check()
        raise ContainerMissing(name)  # ends the background restart at once

    async def existing_volumes(self) -> set[str]:
        self._check()
        return {"jupyterlab-ann_home"}

    async def containers_using(self, volume: str) -> list[str]:
        self._check()
        return []

    async def remove_volume(self, name: str) -> bool:
        self._check()
        self.removed.append(name)
        return True


@dataclass
class FakeSpawner:
    active: bool = False
    ready: bool = False
    pending: str | None = None
    _failed: bool = False
    object_name: str = "jupyterlab-ann"
    phase: str = ""
    orm_spawner: object = field(default_factory=lambda: SimpleNamespace(started=None))
    # The real single-engine lookups, over the fake engine.
    location: OneEngine = field(default_factory=lambda: OneEngine(lambda: "jupyterlab-ann"))

    def docker_access(self) -> tuple[bool, bool]:
        return False, False

    def owned_volumes(self) -> list[UserVolume]:
        return [UserVolume("home", "jupyterlab-ann_home", "/home", "")]


# name -> (spawner, docker up?, container status, operation in flight)
SITUATIONS = {
    "stopped": (FakeSpawner(), True, None, None),
    "starting": (FakeSpawner(active=True, pending="spawn"), True, None, None),
    "running": (FakeSpawner(active=True, ready=True), True, "running", None),
    "running, newer image": (FakeSpawner(active=True, ready=True), True, "running", None),
    "stopping": (FakeSpawner(active=True, pending="stop"), True, "running", None),
    "spawn failed": (FakeSpawner(_failed=True), True, None, None),
    "container gone": (FakeSpawner(active=True, ready=True), True, None, None),
    "container exited": (FakeSpawner(active=True, ready=True), True, "exited", None),
    "restarting": (FakeSpawner(active=True, ready=True), True, "running",
                   OperationKind.RESTARTING),
    "resetting": (FakeSpawner(), True, None, OperationKind.RESETTING_VOLUMES),
    "docker down, stopped": (FakeSpawner(), False, None, None),
    "docker down, running": (FakeSpawner(active=True, ready=True), False, "running", None),
}

OK = None
NOT_RUNNING = (409, "not running")
ONLY_RUNNING = (409, "Only a running server can be restarted")
STOP_FIRST = (409, "Stop the server before resetting")
ALREADY = (409, "already running or starting")
WAIT = (409, "Wait until the current operation finishes")
NEWER = {"running, newer image"}  # the container's tag names another image now
UPDATE_RUNNING = (409, "Only a running server can be re-created to update")
UP_TO_DATE = (409, "Nothing to update: dshub-lab:latest names the image your server runs (old)")
NOT_THERE = (409, "Your container is not running: start it again")
# name -> (card state, docker problem shown?, {action: OK or (status, words of the refusal)})
EXPECTED = {
    "stopped": (CardState.STOPPED, False, dict(
        start=OK, stop=NOT_RUNNING, restart=ONLY_RUNNING, recreate=ONLY_RUNNING, reset=OK,
        update=UPDATE_RUNNING)),
    "starting": (CardState.STARTING, False, dict(
        start=ALREADY, stop=OK, restart=ONLY_RUNNING, recreate=ONLY_RUNNING, reset=STOP_FIRST,
        update=UPDATE_RUNNING)),
    "running": (CardState.RUNNING, False, dict(
        start=ALREADY, stop=OK, restart=OK, recreate=OK, reset=STOP_FIRST, update=UP_TO_DATE)),
    "running, newer image": (CardState.RUNNING, False, dict(
        start=ALREADY, stop=OK, restart=OK, recreate=OK, reset=STOP_FIRST, update=OK)),
    "stopping": (CardState.STOPPING, False, dict(
        start=OK, stop=(409, "already stopping"), restart=ONLY_RUNNING,
        recreate=ONLY_RUNNING, reset=STOP_FIRST, update=UPDATE_RUNNING)),
    "spawn failed": (CardState.FAILED, False, dict(
        start=OK, stop=NOT_RUNNING, restart=ONLY_RUNNING, recreate=ONLY_RUNNING, reset=OK,
        update=UPDATE_RUNNING)),
    "container gone": (CardState.FAILED, False, dict(
        start=OK, stop=OK, restart=OK, recreate=OK, reset=STOP_FIRST, update=NOT_THERE)),
    "container exited": (CardState.FAILED, False, dict(
        start=OK, stop=OK, restart=OK, recreate=OK, reset=STOP_FIRST, update=NOT_THERE)),
    "restarting": (CardState.RESTARTING, False, dict(
        start=(409, "Cannot start while restarting"), stop=WAIT,
        restart=(409, "Cannot restart: restarting"), recreate=(409, "Cannot restart: restarting"),
        reset=(409, "Cannot reset volumes: restarting"),
        update=(409, "Cannot re-create to update: restarting"))),
    "resetting": (CardState.RESETTING, False, dict(
        start=(409, "Cannot start while resetting volumes"), stop=WAIT, restart=ONLY_RUNNING,
        recreate=ONLY_RUNNING, reset=(409, "Cannot reset volumes: resetting volumes"),
        update=UPDATE_RUNNING)),
    "docker down, stopped": (CardState.STOPPED, True, dict(
        start=OK, stop=NOT_RUNNING, restart=ONLY_RUNNING, recreate=ONLY_RUNNING, reset=OK,
        update=UPDATE_RUNNING)),
    "docker down, running": (CardState.RUNNING, True, dict(
        start=(503, "Docker cannot be reached"), stop=OK, restart=OK, recreate=OK,
        reset=STOP_FIRST, update=(503, "Docker cannot be reached"))),
}
ACTIONS = ("start", "stop", "restart", "recreate", "reset", "update")


def make(situation: str, tmp_path) -> tuple[SimpleNamespace, Runtime, HubActions]:
    template, up, container, operation = SITUATIONS[situation]
    spawner = FakeSpawner(**{k: getattr(template, k) for k in ("active", "ready", "pending",
                                                                 "_failed")})
    user = SimpleNamespace(name="ann", url="/user/ann/", spawner=spawner, groups=[])
    docker = FakeDocker(up, container, "sha256:new" if situation in NEWER else "sha256:old")
    runtime = build_runtime(load_settings({}), docker=docker,  # type: ignore[arg-type]
                            store=PortalStore(f"sqlite:///{tmp_path}/portal.sqlite"))
    if operation is not None:
        runtime.operations.acquire("ann", operation)

    async def hub_call(user: SimpleNamespace) -> None:
        return None

    return user, runtime, HubActions(hub_call, hub_call, "http://127.0.0.1:1", "admin")


def test_the_tables_cover_every_situation_and_action():
    assert set(SITUATIONS) == set(EXPECTED)
    assert all(set(actions) == set(ACTIONS) for _, _, actions in EXPECTED.values())


def test_every_operation_kind_has_a_card_state_and_unknown_kinds_fail_loudly():
    assert set(OPERATION_CARDS) == set(OperationKind)
    with pytest.raises(ValueError):
        OperationKind("resetting everything")


@pytest.mark.parametrize("situation", list(EXPECTED))
async def test_the_card_shows_the_true_state(situation, tmp_path):
    user, runtime, _ = make(situation, tmp_path)
    view = await server_view(user, runtime)
    state, docker_problem, _ = EXPECTED[situation]
    assert view.state is state
    assert bool(view.docker_problem) is docker_problem
    assert view.busy is state.busy


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("situation", list(EXPECTED))
async def test_each_action_is_accepted_or_refused_in_plain_words(situation, action, tmp_path):
    user, runtime, hub = make(situation, tmp_path)
    expected = EXPECTED[situation][2][action]
    try:
        if action == "reset":
            run = reset_volumes(user, runtime, ["home"], confirmed=True, how_to_confirm="",
                                actor="admin")
        else:
            run = act(ServerAction(action), user, runtime, hub)
        if expected is OK:
            await run
        else:
            status, words = expected
            with pytest.raises(ActionRefused) as refused:
                await run
            assert refused.value.status == status
            assert words in refused.value.message
    finally:
        await tasks.cancel_all()


async def test_a_refused_reset_asks_for_consent_and_removes_nothing(tmp_path):
    user, runtime, _ = make("stopped", tmp_path)
    with pytest.raises(ActionRefused, match="Tick the box") as refused:
        await reset_volumes(user, runtime, ["home"], confirmed=False,
                            how_to_confirm="Tick the box.", actor="ann")
    assert refused.value.status == 400
    assert runtime.docker.removed == []  # type: ignore[attr-defined]


BUTTONS = {"start": "can_start", "stop": "can_stop", "restart": "can_restart",
           "recreate": "can_recreate", "reset": "can_reset", "update": "can_update"}


@pytest.mark.parametrize("situation", list(EXPECTED))
async def test_every_button_the_card_shows_is_accepted(situation, tmp_path):
    """A button on the card that answers with a refusal is a lie the user can click."""
    user, runtime, _ = make(situation, tmp_path)
    view = await server_view(user, runtime)
    shown = [action for action, flag in BUTTONS.items() if getattr(view, flag)]
    assert all(EXPECTED[situation][2][action] is OK for action in shown), (situation, shown)


async def test_a_start_while_the_hub_stops_the_server_waits_for_the_stop_then_starts(tmp_path):
    """The card showed Start (container killed), then the hub's poll began stopping the record:
    the start waits for that stop instead of refusing with "already running"."""
    user, runtime, _ = make("stopping", tmp_path)
    spawner = user.spawner
    calls: list[str] = []

    async def spawn(user: SimpleNamespace) -> None:
        calls.append("spawn")
        spawner.active, spawner.pending = True, "spawn"

    async def stop(user: SimpleNamespace) -> None:
        calls.append("stop")

    hub = HubActions(spawn, stop, "http://127.0.0.1:1", "ann")
    try:
        await act(ServerAction.START, user, runtime, hub)
        assert calls == []  # the hub's own stop is under way: not a second one, no spawn yet
        view = await server_view(user, runtime)
        assert view.state is CardState.STARTING
        spawner.active, spawner.pending = False, None  # the hub's stop ends
        assert await tasks.wait_until(lambda: calls == ["spawn"], 5, 0.01)
    finally:
        await tasks.cancel_all()


async def test_the_card_offers_the_update_only_while_the_tag_names_another_image(tmp_path):
    for situation, newer in (("running", ""), ("running, newer image", "sha256:new")):
        (store := tmp_path / situation.replace(" ", "-")).mkdir()
        user, runtime, _ = make(situation, store)
        view = await server_view(user, runtime)
        assert (view.image, view.image_id) == ("dshub-lab:latest", "sha256:old")
        assert (view.newer_image, view.can_update) == (newer, bool(newer)), situation
