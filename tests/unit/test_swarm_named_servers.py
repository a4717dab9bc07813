"""Named servers and environments in Swarm mode without a swarm: service names within Swarm's
length rule, a user's servers placed on one node (their home and cache are node-local), and a
named server's deletion removing its volumes on its node's engine. The real swarm:
tests/integration/test_swarm.py (test_a_switch_and_a_named_server_on_the_users_node)."""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace
from typing import Any

import pytest
from dockerspawner import SwarmSpawner

from portal.lab.location import users_engine
from portal.swarm import nodes
from portal.swarm.service import SERVICE_NAME_MAX, service_name
from portal.swarm.spawner import PortalSwarmSpawner, SwarmRefused
from portal.swarm.view import SwarmView
from portal.volumes.account_volumes import remove_server_volumes
from tests.support.fake_docker import FakeEngine, service_over
from tests.unit.test_spawner_names import FakeUser
from tests.unit.test_swarm_spawner import node_data

# swarmkit's check of a service name (a DNS label: letters, digits, runs of - or _ between).
DNS_LABEL = re.compile(r"^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$")


class SwarmUser(FakeUser):
    """A user with the hub's records and spawners of several servers."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.orm_spawners: dict[str, Any] = {}
        self.spawners: dict[str, PortalSwarmSpawner] = {}

    def server(self, server: str = "", **traits: Any) -> PortalSwarmSpawner:
        record = SimpleNamespace(name=server, display_name=server, server=None, user_options={},
                                 id=len(self.orm_spawners))
        spawner = PortalSwarmSpawner(user=self, hub=None, orm_spawner=record, **traits)
        self.orm_spawners[server] = record
        self.spawners[server] = spawner
        return spawner


# --- names -------------------------------------------------------------------------------------


def test_service_names_fit_swarms_rule_and_stay_apart():
    short = "jupyterlab-bob--x"
    assert service_name(short) == short
    long_user = "a" * 40
    names = {service_name(f"jupyterlab-{long_user}--{server}")
             for server in ("x" * 30, "x" * 29 + "y", "y" * 30)}
    assert len(names) == 3  # cut alike, told apart by the hash of the whole name
    assert all(len(n) == SERVICE_NAME_MAX and DNS_LABEL.match(n) for n in names)
    assert all(n.startswith(f"jupyterlab-{long_user}--") for n in names)


def test_a_named_servers_service_is_named_apart_from_another_users_default_one():
    user, other = SwarmUser("bob"), SwarmUser("bob-x")
    assert user.server("x").service_name == "jupyterlab-bob--x"
    assert other.server().service_name == "jupyterlab-bob-2dx"


def test_a_long_name_stays_within_the_rule_after_an_environment_changes_the_image():
    """DockerSpawner names the object again when `image` changes (a start in an environment,
    a switch): the Swarm rule must hold then too."""
    spawner = SwarmUser("u" * 30).server("s" * 30)
    first = spawner.service_name
    assert len(first) == SERVICE_NAME_MAX and DNS_LABEL.match(first)
    spawner.image = "dshub-lab-noext:latest"
    assert spawner.service_name == first
    # Its volumes keep their full names (Docker allows them): only the service is cut.
    assert {v.name for v in spawner.owned_volumes()} >= {f"jupyterlab-{'u' * 30}--{'s' * 30}"
                                                        "_workspace"}


# --- placement ---------------------------------------------------------------------------------


class Manager:
    """The manager's DockerService as placement asks it: n1 (its own) and n2; lab services."""

    def __init__(self, listing: list[dict], services: list[dict]) -> None:
        self.listing, self.services = listing, services

    async def swarm_node_id(self) -> str:
        return "n1"

    async def swarm_nodes(self) -> list[dict]:
        return self.listing

    async def swarm_services(self) -> list[dict]:
        return self.services

    async def existing_volumes(self) -> set[str]:
        return set()


def busy_n1(n2_state: str = "ready") -> SwarmView:
    """n1 runs a lab, n2 none: a first start with nothing else to go by takes n2 (and a second
    one, with the first counted as being placed on n2, would take n1)."""
    n2 = node_data("n2", state=n2_state, labels={nodes.ENGINE_LABEL: "tcp://n2:2376"})
    label = {"Spec": {"Labels": {nodes.NODE_LABEL: "n1"}}}
    view = SwarmView(Manager([node_data("n1"), n2], [label]), "unix:///manager.sock")
    view._engines["tcp://n2:2376"] = view.manager  # no volumes there either
    return view


def place_only(monkeypatch: pytest.MonkeyPatch, placed: list[str]) -> None:
    """create_object up to the node: no volume claim, no service (what it placed is noted)."""

    async def no_service(spawner: Any) -> dict:
        placed.append(f"{spawner.name or '(default)'}@{spawner.swarm_node}")
        await asyncio.sleep(0.01)  # the other start goes on meanwhile
        return {}

    async def no_claim(spawner: Any, node: Any) -> None:
        await asyncio.sleep(0.01)

    monkeypatch.setattr(SwarmSpawner, "create_object", no_service)
    monkeypatch.setattr(PortalSwarmSpawner, "_claim_on", no_claim)


def servers(view: SwarmView, *names: str) -> list[PortalSwarmSpawner]:
    user = SwarmUser("ann")
    found = [user.server(name) for name in names]
    for spawner in found:
        spawner.swarm_view = lambda: view
    return found


def test_a_named_server_goes_to_the_node_of_the_users_default_server(monkeypatch):
    placed: list[str] = []
    place_only(monkeypatch, placed)
    default, named = servers(busy_n1(), "", "gpu")
    default.swarm_node, default.swarm_node_title = "n1", "host-n1 (127.0.0.2)"
    asyncio.run(named.create_object())
    assert placed == ["gpu@n1"]  # not the emptier n2: its home and cache are on n1
    assert named.get_state()["swarm_node"] == "n1"


def test_a_users_first_starts_at_once_land_on_one_node(monkeypatch):
    placed: list[str] = []
    place_only(monkeypatch, placed)
    default, named = servers(busy_n1(), "", "gpu")

    async def both() -> None:
        await asyncio.gather(default.create_object(), named.create_object())

    asyncio.run(both())
    assert sorted(placed) == ["(default)@n2", "gpu@n2"]


def test_a_named_server_is_refused_while_the_users_node_is_down(monkeypatch):
    place_only(monkeypatch, [])
    default, named = servers(busy_n1(n2_state="down"), "", "gpu")
    default.swarm_node = "n2"
    with pytest.raises(SwarmRefused, match="Your volumes are on node .*which is down"):
        asyncio.run(named.create_object())
    assert named.swarm_node == ""  # nothing placed


def test_shared_storage_servers_are_placed_by_load_alone(monkeypatch):
    placed: list[str] = []
    place_only(monkeypatch, placed)
    default, named = servers(busy_n1(), "", "gpu")
    default.swarm_node = "n1"
    named.volume_driver_options = {"type": "nfs", "device": ":/x/{volume}"}
    asyncio.run(named.create_object())
    assert placed == ["gpu@n2"]


# --- deletion ----------------------------------------------------------------------------------


def test_deleting_a_named_server_removes_its_volumes_on_its_nodes_engine():
    user = SwarmUser("ann")
    named = user.server("gpu")
    own = f"{named.object_name}_workspace"
    node_engine, manager_engine = FakeEngine(), FakeEngine()
    for engine in (node_engine, manager_engine):  # a volume of the same name on the manager
        engine.create_volume(own)
        engine.create_volume("jupyterlab-ann_home")

    with service_over(node_engine) as on_node, service_over(manager_engine) as on_manager:
        async def engine_of(docker: Any) -> Any:
            return on_node

        named.location.engine = engine_of
        runtime = SimpleNamespace(docker=on_manager,
                                  volume_sizes=SimpleNamespace(forget=lambda names: None))
        removed = asyncio.run(remove_server_volumes(named, runtime))
    assert removed == [own]
    assert node_engine.volume_names() == ["jupyterlab-ann_home"]
    assert sorted(manager_engine.volume_names()) == sorted([own, "jupyterlab-ann_home"])


def test_a_users_volumes_are_on_the_node_of_whichever_server_was_placed():
    """Its default server never started, a named one did: the volumes are on that one's node
    (the volume dialog, a reset and the account's deletion ask there)."""
    user = SwarmUser("ann")
    user.server()  # the default server: never placed
    named = user.server("gpu")
    named.swarm_node, named.swarm_node_title = "n2", "host-n2 (127.0.0.3)"
    asked: list[str] = []

    async def engine_of(docker: Any) -> str:
        asked.append("gpu")
        return "n2's engine"

    named.location.engine = engine_of
    assert asyncio.run(users_engine(user, "the manager")) == "n2's engine"
    named.swarm_node = named.swarm_node_title = ""  # nothing placed: the hub's own engine
    assert asyncio.run(users_engine(user, "the manager")) == "the manager"
    assert asked == ["gpu"]
