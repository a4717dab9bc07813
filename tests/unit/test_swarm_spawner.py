"""Swarm mode's pure logic: node parsing and choice, mounts, and the final service spec.

No Docker, no hub: the spawner is built around the same minimal fake user as PortalSpawner's
tests. The real swarm is exercised in tests/integration/test_swarm.py.
"""

from __future__ import annotations

import asyncio

import pytest
from docker.types import ContainerSpec, Mount, Placement, Resources, TaskTemplate

from portal.lab.spawner import PortalSpawner
from portal.swarm import nodes
from portal.swarm.spawner import PortalSwarmSpawner, SwarmRefused
from portal.swarm.tasks import container_id, current_task, task_state
from portal.swarm.view import SwarmView
from tests.unit.test_spawner_names import FakeUser


def make(name: str = "john.doe", groups: tuple[str, ...] = (), **traits) -> PortalSwarmSpawner:
    user = FakeUser(name, groups)
    spawner = PortalSwarmSpawner(user=user, hub=None, orm_spawner=None, **traits)
    user.spawner = spawner
    return spawner


def node_data(node_id: str, state: str = "ready", availability: str = "active",
              labels: dict | None = None, addr: str = "127.0.0.2", name: str = "") -> dict:
    return {"ID": node_id, "Description": {"Hostname": "host-" + node_id},
            "Status": {"State": state, "Addr": addr},
            "Spec": {"Availability": availability, "Labels": labels or {}, "Name": name}}


def node(node_id: str, **kw) -> nodes.Node:
    kw.setdefault("labels", {nodes.ENGINE_LABEL: f"tcp://{node_id}:2376"})
    return nodes.parse_node(node_data(node_id, **kw), "self", "unix:///var/run/docker.sock")


# --- nodes ---------------------------------------------------------------------------------


def test_parse_node_reads_engine_label_name_and_state():
    n = node("n1", name="gpu-1", addr="127.0.0.9")
    assert (n.id, n.hostname, n.addr, n.ready, n.active) == ("n1", "gpu-1", "127.0.0.9", True, True)
    assert n.engine_url == "tcp://n1:2376" and n.usable
    assert n.title == "gpu-1 (127.0.0.9)"
    assert n.socket_path == "/var/run/docker.sock"  # a TCP engine: the node's standard socket
    unnamed = nodes.parse_node(node_data("n2"), "self", "")
    assert unnamed.hostname == "host-n2" and not unnamed.engine_url and not unnamed.usable


def test_the_hubs_own_node_needs_no_label_and_its_socket_follows_docker_host():
    own = nodes.parse_node(node_data("self", labels={}), "self", "unix:///tmp/d2/sock")
    assert own.engine_url == "unix:///tmp/d2/sock" and own.usable
    assert own.socket_path == "/tmp/d2/sock"


@pytest.mark.parametrize("kw", [{"state": "down"}, {"availability": "drain"},
                                {"availability": "pause"},
                                {"labels": {nodes.ENGINE_LABEL: "tcp://x:1",
                                            nodes.LABS_LABEL: "false"}}])
def test_unusable_nodes_never_get_labs(kw):
    assert nodes.choose_node([node("bad", **kw)], {}) is None
    assert nodes.choose_node([node("bad", **kw), node("ok")], {"ok": 9}).id == "ok"


def test_choose_the_least_loaded_node_ties_by_address():
    a, b = node("a", addr="127.0.0.3"), node("b", addr="127.0.0.2")
    assert nodes.choose_node([a, b], {}).id == "b"
    assert nodes.choose_node([a, b], {"b": 2, "a": 1}).id == "a"


def test_lab_load_counts_services_by_their_node_label():
    services = [{"Spec": {"Labels": {nodes.NODE_LABEL: "a"}}},
                {"Spec": {"Labels": {nodes.NODE_LABEL: "a"}}},
                {"Spec": {"Labels": {"other": "x"}}}, {"Spec": {}}]
    assert nodes.lab_load(services) == {"a": 2}


# --- the spawner ---------------------------------------------------------------------------


def test_it_is_a_portal_spawner_so_the_portal_config_and_names_apply():
    spawner = make()
    assert isinstance(spawner, PortalSpawner)
    assert spawner.object_name == "jupyterlab-john-2edoe"
    assert spawner.location.node_title() == ""


def test_named_volumes_are_volume_mounts_and_paths_are_binds():
    spawner = make(volumes={"/srv/data": {"bind": "/data", "mode": "ro"},
                            "jupyterlab-{username}_home": "/home"})
    mounts = {m["Target"]: m for m in spawner.mounts}
    assert mounts["/home"]["Type"] == "volume"
    assert mounts["/home"]["Source"] == "jupyterlab-john-2edoe_home"
    assert "VolumeOptions" not in mounts["/home"]  # node-local: the local driver as is
    assert mounts["/data"]["Type"] == "bind" and mounts["/data"]["ReadOnly"] is True


def test_shared_storage_options_name_each_volume():
    spawner = make(volume_driver_options={"type": "nfs", "o": "addr=nfs.example.org,rw",
                                          "device": ":/exports/dshub/{volume}"})
    home = next(m for m in spawner.mounts if m["Target"] == "/home")
    driver = home["VolumeOptions"]["DriverConfig"]
    assert driver["Name"] == "local"
    assert driver["Options"]["device"] == ":/exports/dshub/jupyterlab-john-2edoe_home"


def service_kwargs(spawner: PortalSwarmSpawner, target: nodes.Node, extra_mounts=()) -> dict:
    spec = ContainerSpec(image="lab", mounts=[*spawner.mounts, *extra_mounts])
    kwargs = {"task_template": TaskTemplate(container_spec=spec, resources=Resources(),
                                            placement=Placement(constraints=["node.role==worker"])),
              "name": spawner.object_name}
    spawner._target = target
    spawner._finish_service(kwargs)
    return kwargs


def test_service_is_pinned_to_the_chosen_node_and_labelled():
    spawner = make()
    kwargs = service_kwargs(spawner, node("n7"))
    template = kwargs["task_template"]
    assert template["Placement"]["Constraints"] == ["node.role==worker", "node.id==n7"]
    assert kwargs["labels"][nodes.NODE_LABEL] == "n7"
    assert template["ContainerSpec"]["Labels"]["com.centurylinklabs.watchtower.enable"] == "false"
    # A lab that ends stays ended (the hub notices and says why), as on one engine.
    assert template["RestartPolicy"] == {"Condition": "none"}


def test_the_groups_limits_replace_the_configured_ones():
    spawner = make()
    spawner.lab_memory, spawner.lab_cpus = 512 * 1024**2, 1.5
    spec = ContainerSpec(image="lab", mounts=spawner.mounts)
    kwargs = {"task_template": TaskTemplate(
        container_spec=spec, resources=Resources(mem_limit=8 * 1024**3, cpu_limit=4 * 10**9)),
        "name": spawner.object_name}
    spawner._target = node("n1")
    spawner._finish_service(kwargs)
    limits = kwargs["task_template"]["Resources"]["Limits"]
    assert limits == {"MemoryBytes": 512 * 1024**2, "NanoCPUs": 1_500_000_000}
    spawner.lab_memory = spawner.lab_cpus = None  # no limit: none, whatever the configuration
    assert service_kwargs(spawner, node("n1"))["task_template"]["Resources"]["Limits"] == {}


def test_shared_storage_labs_are_not_pinned():
    spawner = make(volume_driver_options={"type": "nfs", "device": ":/x/{volume}"})
    template = service_kwargs(spawner, node("n7"))["task_template"]
    assert template["Placement"]["Constraints"] == ["node.role==worker"]


SOCK = Mount(target="/var/run/docker.sock", source="/run/docker.sock", type="bind")


def test_socket_only_for_the_group_and_always_the_nodes_own():
    outsider = make()
    mounts = service_kwargs(outsider, node("n1"), [SOCK])["task_template"]["ContainerSpec"][
        "Mounts"]
    assert all(m["Target"] != "/var/run/docker.sock" for m in mounts)
    member = make(groups=("docker-sock",))
    own = nodes.parse_node(node_data("self"), "self", "unix:///tmp/d2/sock")
    mounts = service_kwargs(member, own, [SOCK])["task_template"]["ContainerSpec"]["Mounts"]
    socks = [m for m in mounts if m["Target"] == "/var/run/docker.sock"]
    assert [(m["Source"], m["Type"]) for m in socks] == [("/tmp/d2/sock", "bind")]


def test_gpu_becomes_a_generic_resource_reservation():
    spawner = make(gpu_enabled=True, gpu_generic_resource="NVIDIA-GPU")
    resources = service_kwargs(spawner, node("n1"))["task_template"]["Resources"]
    assert resources["Reservations"]["GenericResources"] == [
        {"DiscreteResourceSpec": {"Kind": "NVIDIA-GPU", "Value": 1}}]


@pytest.mark.parametrize(("groups", "traits", "words"), [
    (("docker-privileged",), {}, "cannot run privileged"),
    ((), {"gpu_enabled": True}, "no GPU generic resource"),
])
def test_what_swarm_cannot_honour_is_refused_before_any_docker_call(groups, traits, words):
    spawner = make(groups=groups, **traits)

    def no_docker(*args, **kwargs):
        raise AssertionError("Docker was called")

    spawner.docker = no_docker
    with pytest.raises(SwarmRefused, match=words):
        asyncio.run(spawner.create_object())


def test_node_is_kept_in_state_across_stops():
    spawner = make()
    spawner.swarm_node, spawner.swarm_node_title = "n3", "host-n3 (127.0.0.3)"
    spawner.clear_state()
    state = spawner.get_state()
    assert state["swarm_node"] == "n3"
    fresh = make()
    fresh.load_state(state)
    assert fresh.location.node_title() == "host-n3 (127.0.0.3)"


@pytest.mark.parametrize(("kw", "words"), [({"state": "down"}, "which is down"),
                                          ({"availability": "drain"}, "drained or paused")])
def test_a_pinned_lab_never_starts_elsewhere_while_its_node_is_out(kw, words, monkeypatch):
    spawner = make()
    spawner.swarm_node = "n2"
    manager = Manager([node_data("n1"), node_data("n2", **kw)])
    spawner.docker_engine = lambda: manager
    with pytest.raises(SwarmRefused, match=words):
        asyncio.run(spawner.create_object())
    assert spawner.swarm_node == "n2"  # still pinned to the node holding the volumes


class Manager:
    """The manager's DockerService as placement asks it: its node, the node list."""

    def __init__(self, listing: list[dict]) -> None:
        self.listing = listing
        self.asked: list[str] = []

    async def swarm_node_id(self) -> str:
        self.asked.append("info")
        return "n1"

    async def swarm_nodes(self) -> list[dict]:
        self.asked.append("nodes")
        return self.listing


def test_the_hubs_one_swarm_view_is_shared_by_its_spawners():
    manager = Manager([node_data("n1")])
    view = SwarmView(manager, "unix:///var/run/docker.sock")  # as portal.setup(c) makes it
    first, second, alone = make("ann"), make("bob"), make("cy")
    first.swarm_view = second.swarm_view = lambda: view
    alone.docker_engine = lambda: Manager([node_data("n1")])
    assert first.node_placement.view is second.node_placement.view is view
    assert alone.node_placement.view is not view  # without setup: a view of its own
    assert alone.node_placement.view is alone.node_placement.view
    asyncio.run(first.node_placement.nodes())
    asyncio.run(second.node_placement.nodes())  # trusted for NODE_TTL: the manager is asked once
    assert manager.asked == ["info", "nodes"]
    assert [n.id for n in asyncio.run(second.node_placement.nodes(fresh=True))] == ["n1"]
    assert manager.asked == ["info", "nodes", "nodes"]  # its own node is asked only once


def test_a_restart_under_way_is_not_seen_as_a_stop():
    spawner = make()
    spawner.swarm_node = "n1"
    spawner.location.restarting = True  # the hub's poll must not see the task being replaced

    def no_docker(*args, **kwargs):
        raise AssertionError("Docker was called")

    spawner.docker = no_docker
    assert asyncio.run(spawner.poll()) is None


# --- tasks -------------------------------------------------------------------------------------

def swarm_task(task_id: str, created: str, desired: str = "running", state: str = "running",
               container: str = "") -> dict:
    return {"ID": task_id, "CreatedAt": created, "DesiredState": desired,
            "Status": {"State": state, "ContainerStatus": {"ContainerID": container}}}


def test_the_current_task_is_the_newest_one_swarm_means_to_run():
    old = swarm_task("old", "2026-12-01T10:00:05.1Z", desired="shutdown", state="shutdown")
    new = swarm_task("new", "2026-12-01T10:00:05.09Z", state="starting")
    # A trimmed fraction is compared as a number: .1 is later than .09, yet "shutdown" loses.
    assert current_task([old, new])["ID"] == "new"
    later = swarm_task("later", "2026-12-01T10:00:05.1Z")
    assert current_task([new, later, old])["ID"] == "later"


def test_an_ended_lab_is_its_newest_task_and_no_task_is_none():
    first = swarm_task("first", "2026-12-01T10:00:01Z", desired="shutdown", state="shutdown")
    failed = swarm_task("failed", "2026-12-01T10:00:02.5Z", desired="shutdown", state="failed",
                        container="c2")
    task = current_task([failed, first])
    assert (task["ID"], task_state(task), container_id(task)) == ("failed", "failed", "c2")
    assert current_task([]) is None
    assert (task_state(None), container_id(None)) == ("", "")
