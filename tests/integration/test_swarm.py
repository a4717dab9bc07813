"""Swarm mode on a real 2-node swarm: placement, data on its node, usage and limits, restart, hub
restart, broadcast, sharing, environments and named servers, node down.

The tests run in order and share one swarm and one hub: the first places two users' labs, the
later ones act on them (the node-down test is last: it stops the worker's engine).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from typing import Any

import docker.errors
import pytest
import requests
import yaml

from tests.integration.test_engine_paths import HOSTILE_BINDS
from tests.integration.test_named_servers import (
    cull_idle_named_server_keep_the_active_default,
    named_state,
)
from tests.integration.test_sharing import in_lab, open_lab
from tests.support.clients import PASSWORD, Portal, card_state, signup, wait_state
from tests.support.engines import Engine
from tests.support.hub import PREFIX as RUN_PREFIX
from tests.support.hub import ROOT, Hub
from tests.support.limits import MIB, make_group
from tests.support.sharing import revoke, share, shared_with_me
from tests.support.swarm import Swarm

PREFIX = f"{RUN_PREFIX}jupyterlab-"
BASE_IMAGE = "dshub-base:bookworm"  # on the machine's engine (the lab image's base), no node's
NOEXT_IMAGE = "dshub-lab-noext:latest"


@pytest.fixture(scope="module")
def swarm_hub(swarm: Swarm, tmp_path_factory) -> Any:
    hub = Hub(tmp_path_factory.mktemp("swarm-hub"), base_url="/",
              env={"DOCKER_SWARM": "1", "DOCKER_HOST": swarm.manager.url})
    hub.start()
    assert signup(hub, "admin").status_code == 200
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def admin(swarm_hub: Hub) -> Portal:
    portal = Portal(swarm_hub, "admin")
    portal.keeps_sudo = True  # it grants Docker access: confirms its password when asked
    return portal


@pytest.fixture(scope="module")
def placed(swarm: Swarm, swarm_hub: Hub, admin: Portal) -> dict[str, Any]:
    """Two users started one after the other; each user's node and engine, by user name."""
    users = {}
    for name in ("swa", "swb"):
        r = admin.post("portal/admin/users", {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        users[name] = Portal(swarm_hub, name)
    # swb may use Docker: its lab must get the socket of the node it runs on.
    r = admin.post("portal/admin/groups/docker-sock/add", {"username": "swb"})
    assert r.status_code == 200, r.text
    for name, portal in users.items():
        r = portal.post(f"portal/users/{name}/start")
        assert r.status_code == 200, r.text
        assert wait_state(portal, name, {"running", "failed"}) == "running", swarm_hub.log_tail()
    return {name: {"portal": portal, "node": task(swarm, name)["NodeID"]}
            for name, portal in users.items()}


def service_task(swarm: Swarm, service: str) -> dict[str, Any]:
    """The running task of a lab service, from the manager."""
    api = swarm.manager.client().api
    tasks = api.tasks(filters={"service": service, "desired-state": "running"})
    running = [t for t in tasks if t["Status"]["State"] == "running"]
    assert len(running) == 1, tasks
    return running[0]


def task(swarm: Swarm, user: str) -> dict[str, Any]:
    """The running task of a user's (default) lab service."""
    return service_task(swarm, PREFIX + user)


def engine_of(swarm: Swarm, node_id: str) -> Engine:
    return next(e for e in swarm.engines if swarm.node_id(e) == node_id)


def lab_container(swarm: Swarm, user: str) -> tuple[Engine, Any]:
    t = task(swarm, user)
    engine = engine_of(swarm, t["NodeID"])
    return engine, engine.client().containers.get(t["Status"]["ContainerStatus"]["ContainerID"])


def sh(swarm: Swarm, user: str, command: str) -> str:
    _, container = lab_container(swarm, user)
    code, out = container.exec_run(["sh", "-c", command])
    assert code == 0, out
    return out.decode().strip()


def reachable(portal: Portal) -> bool:
    r = portal.s.get(f"{portal.hub.url}user/{portal.name}/api", timeout=20)
    return r.status_code == 200 and "version" in r.json()


def volume_names(engine: Engine) -> set[str]:
    return {v.name for v in engine.client().volumes.list()}


def test_two_users_on_two_nodes_with_their_mounts(swarm, placed, admin):
    nodes = {info["node"] for info in placed.values()}
    assert nodes == {swarm.node_id(swarm.manager), swarm.node_id(swarm.worker)}
    for name, info in placed.items():
        assert reachable(info["portal"])
        engine, container = lab_container(swarm, name)
        mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
        for key, path in (("home", "/home"), ("workspace", "/home/lab/workspace")):
            assert mounts[path]["Type"] == "volume"
            assert mounts[path]["Name"] == f"{PREFIX}{name}_{key}"
        # Node-local: created on the lab's node only.
        other = next(e for e in swarm.engines if e is not engine)
        assert f"{PREFIX}{name}_home" in volume_names(engine)
        assert f"{PREFIX}{name}_home" not in volume_names(other)
        # Admins see the node on the card.
        html = admin.get(f"portal/users/{name}/card").text
        assert f"{RUN_PREFIX}{engine.name}" in html, html
    # docker-sock: the socket of the node the lab runs on, which answers from inside the lab.
    engine, container = lab_container(swarm, "swb")
    sock = {m["Destination"]: m for m in container.attrs["Mounts"]}["/var/run/docker.sock"]
    assert sock["Type"] == "bind" and sock["Source"] == str(engine.sock)
    assert sh(swarm, "swb", "test -S /var/run/docker.sock && echo ok") == "ok"
    assert sock["Source"] != "/var/run/docker.sock"  # never the machine's own engine


def test_admins_see_the_images_in_use_per_node(swarm, swarm_hub, placed):
    """Each node lists the image its lab runs, with that node's own ID, up to date; the card
    reads the task container's image on its node (issue 25)."""
    r = swarm_hub.api("GET", "../portal/api/images")
    assert r.status_code == 200, r.text
    engines = r.json()["engines"]

    def where(engine: Engine) -> str:  # "Swarm node <hostname> (<address>)"
        return f"Swarm node {RUN_PREFIX}{engine.name} ("

    assert len(engines) == 2 and all(
        sum(e["where"].startswith(where(n)) for e in engines) == 1 for n in swarm.engines)
    for name, info in placed.items():
        engine, container = lab_container(swarm, name)
        [listed] = [e for e in engines if e["where"].startswith(where(engine))]
        assert listed["problem"] is None
        [image] = [i for i in listed["images"] if name in i["users"]]
        assert image["id"] == container.attrs["Image"] and image["outdated"] == []
        assert "dshub-lab:latest" in image["tags"] and image["size_bytes"] > 0
        state = info["portal"].s.get(info["portal"].url(f"portal/api/users/{name}/server"),
                                     timeout=30).json()
        assert state["image_id"] == container.attrs["Image"], state
        assert state["image"] == "dshub-lab:latest" and state["newer_image_id"] is None


def test_an_environments_image_must_be_on_every_node(swarm_hub):
    """Each node has the lab image (Swarm.start loads it), never the base image (which the
    machine's engine has): an environment of that one is refused naming both nodes, nothing is
    pulled (issue 25). (The nodes' kept data roots may hold dshub-lab-noext from an earlier run:
    test_a_switch_and_a_named_server_on_the_users_node loads it.)"""
    r = swarm_hub.api("PUT", "../portal/api/environments/sw-lab", json={"image": "dshub-lab"})
    assert r.status_code == 200, r.text
    r = swarm_hub.api("PUT", "../portal/api/environments/sw-base",
                      json={"image": BASE_IMAGE})
    message = r.json()["message"]
    assert r.status_code == 400 and message.count("Swarm node ") == 2, r.text
    assert message.startswith(f"The image {BASE_IMAGE} is not on Swarm node ")
    assert "scripts/build-images.sh" in message
    r = swarm_hub.api("DELETE", "../portal/api/environments/sw-lab")
    assert r.status_code == 200, r.text


def test_privileged_is_refused_clearly(swarm_hub, admin):
    r = admin.post("portal/admin/users", {"username": "swpriv", "password": PASSWORD})
    assert r.status_code == 200
    assert admin.post("portal/admin/groups/docker-privileged/add",
                      {"username": "swpriv"}).status_code == 200
    user = Portal(swarm_hub, "swpriv")
    assert user.post("portal/users/swpriv/start").status_code == 200
    assert wait_state(user, "swpriv", {"failed", "running"}) == "failed"
    html = user.get("portal/users/swpriv/card").text
    assert "cannot run privileged" in html, html


def usage_of(portal: Portal, user: str, timeout: float = 40) -> dict[str, Any]:
    """The user's usage sample, once the background sampler has one with a CPU figure."""
    deadline, sample = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        r = portal.get(f"portal/api/users/{user}/usage", htmx=False)
        assert r.status_code == 200, r.text
        sample = r.json()["usage"]
        if sample and sample["cpus"] is not None:
            return sample
        time.sleep(1)
    raise AssertionError(f"no usage for {user} within {timeout} s: {sample}")


def test_usage_is_sampled_on_each_labs_node(swarm, placed):
    for name, info in placed.items():
        sample = usage_of(info["portal"], name)
        assert sample["memory_bytes"] > 10 * MIB, (name, sample)
        assert sample["memory_limit_bytes"] is None  # no limit: not the node's memory either
        assert set(sample["volumes"]) == {"home", "workspace", "cache"}
        if info["node"] == swarm.node_id(swarm.worker):
            # Sizes are measured on the hub's engine only: blank for the worker's volumes.
            assert set(sample["volumes"].values()) == {None}, sample


def test_group_limits_reach_the_task_container_and_the_card(swarm, swarm_hub, admin):
    r = admin.post("portal/admin/users", {"username": "swlim", "password": PASSWORD})
    assert r.status_code == 200, r.text
    make_group(swarm_hub, "sw-limited", "swlim")
    r = admin.post("portal/admin/limits", {"group": "sw-limited", "memory": "512M",
                                           "cpus": "0.5"})
    assert r.status_code == 200, r.text
    user = Portal(swarm_hub, "swlim")
    assert user.post("portal/users/swlim/start").status_code == 200
    assert wait_state(user, "swlim", {"running", "failed"}) == "running", swarm_hub.log_tail()
    service = swarm.manager.client().api.inspect_service(PREFIX + "swlim")
    limits = service["Spec"]["TaskTemplate"]["Resources"]["Limits"]
    assert limits == {"MemoryBytes": 512 * MIB, "NanoCPUs": 500_000_000}, limits
    # What the task's container on its node really gets. Swarm has no swap setting: the
    # engine's default applies, swap up to the memory limit again (on one engine: none).
    _, container = lab_container(swarm, "swlim")
    host = container.attrs["HostConfig"]
    assert (host["Memory"], host["NanoCpus"]) == (512 * MIB, 500_000_000), host
    assert host["MemorySwap"] == 2 * 512 * MIB, host
    card = user.get("portal/users/swlim/card").text
    assert "Limits: 512 MiB memory, 0.5 CPUs" in card and "Restart to apply" not in card, card
    sample = usage_of(user, "swlim")
    assert sample["memory_limit_bytes"] == 512 * MIB and sample["memory_bytes"] > 10 * MIB
    # A change waits for the next start: the card compares it with the task's limits.
    assert admin.post("portal/admin/limits", {"group": "sw-limited", "memory": "768M",
                                              "cpus": "0.5"}).status_code == 200
    card = user.get("portal/users/swlim/card").text
    assert "Your limits changed" in card and "Restart to apply" in card, card
    assert user.post("portal/users/swlim/stop").status_code == 200
    assert wait_state(user, "swlim", {"stopped"}) == "stopped"


def test_out_of_memory_is_explained_and_swarm_does_not_start_it_again(swarm, swarm_hub,
                                                                      admin):
    r = admin.post("portal/admin/limits", {"group": "sw-limited", "memory": "256M", "cpus": ""})
    assert r.status_code == 200, r.text
    user = Portal(swarm_hub, "swlim")
    assert user.post("portal/users/swlim/start").status_code == 200
    assert wait_state(user, "swlim", {"running", "failed"}) == "running", swarm_hub.log_tail()
    engine, container = lab_container(swarm, "swlim")
    # As on one engine (tests/integration/test_limits.py): the lab server itself is the one the
    # kernel kills, then 768 MiB are allocated in a 256 MiB lab (no swap here, 256 MiB if any).
    assert container.exec_run(["sh", "-c", "echo 1000 > /proc/1/oom_score_adj"]).exit_code == 0
    container.exec_run(["python3", "-c", "x = b'\\x01' * (768 << 20); import time; "
                        "time.sleep(30)"], detach=True)
    deadline = time.monotonic() + 60
    card = ""
    while time.monotonic() < deadline and "ran out of memory" not in card:
        time.sleep(0.5)
        card = user.get("portal/users/swlim/card").text
    assert "stopped: it ran out of memory (limit 256 MiB)" in card, card
    with contextlib.suppress(docker.errors.NotFound):  # the hub's poll may have removed it
        container.reload()
        assert container.attrs["State"]["OOMKilled"] is True
    # Swarm did not start a new task behind the hub's back; the hub's poll notices the end.
    assert wait_state(user, "swlim", {"stopped"}, timeout=40) == "stopped"
    card = user.get("portal/users/swlim/card").text
    assert "stopped: it ran out of memory (limit 256 MiB)" in card and "Start" in card, card
    assert "Lab of swlim stopped: it ran out of memory" in swarm_hub.log_path.read_text()
    assert user.post("portal/users/swlim/start").status_code == 200
    assert wait_state(user, "swlim", {"running", "failed"}) == "running", swarm_hub.log_tail()
    assert "ran out of memory" not in user.get("portal/users/swlim/card").text
    assert user.post("portal/users/swlim/stop").status_code == 200
    assert wait_state(user, "swlim", {"stopped"}) == "stopped"


def test_restart_replaces_container_keeps_workspace_and_node(swarm, placed):
    name = next(n for n, i in placed.items() if i["node"] == swarm.node_id(swarm.worker))
    portal = placed[name]["portal"]
    sh(swarm, name, "echo kept > /home/lab/workspace/keep.txt")
    before = task(swarm, name)
    r = portal.post(f"portal/users/{name}/restart")
    assert r.status_code == 200 and card_state(r.text) == "restarting"
    assert wait_state(portal, name, {"running", "failed"}, timeout=120) == "running"
    html = portal.get(f"portal/users/{name}/card").text
    assert "Restart failed" not in html and "did not answer" not in html, html
    after = task(swarm, name)
    assert after["ID"] != before["ID"]  # a new task, so a new container
    assert after["NodeID"] == before["NodeID"]
    assert sh(swarm, name, "cat /home/lab/workspace/keep.txt") == "kept"
    assert reachable(portal)


def test_hub_restart_keeps_labs_reachable_on_their_nodes(swarm, swarm_hub, placed):
    swarm_hub.restart()
    for name, info in placed.items():
        portal = Portal(swarm_hub, name)  # a new hub process: sign in again
        info["portal"] = portal
        assert wait_state(portal, name, {"running"}, timeout=30) == "running"
        assert reachable(portal)
        assert task(swarm, name)["NodeID"] == info["node"]


def test_reset_on_worker_removes_only_those_volumes_there(swarm, placed):
    name = next(n for n, i in placed.items() if i["node"] == swarm.node_id(swarm.worker))
    other_name = next(n for n in placed if n != name)
    portal = placed[name]["portal"]
    # A volume of the same name on the manager: a reset aimed at the wrong node would take it.
    decoy = swarm.manager.client().volumes.create(f"{PREFIX}{name}_workspace")
    try:
        r = portal.post(f"portal/users/{name}/stop")
        assert r.status_code == 200
        assert wait_state(portal, name, {"stopped"}) == "stopped"
        manager_before = volume_names(swarm.manager)
        sizes = portal.get(f"portal/users/{name}/volumes").text
        assert "not created yet" not in sizes, sizes
        r = portal.post(f"portal/users/{name}/volumes/reset",
                        {"volume": ["workspace"], "confirm": "yes"})
        assert r.status_code == 200 and "Reset: workspace" in r.text, r.text
        on_worker = volume_names(swarm.worker)
        assert f"{PREFIX}{name}_workspace" not in on_worker
        assert {f"{PREFIX}{name}_home", f"{PREFIX}{name}_cache"} <= on_worker
        assert volume_names(swarm.manager) == manager_before  # decoy and the other user's kept
        assert f"{PREFIX}{other_name}_workspace" in manager_before
        # Started again: the same node (pinned), workspace empty, home kept.
        r = portal.post(f"portal/users/{name}/start")
        assert r.status_code == 200
        assert wait_state(portal, name, {"running", "failed"}) == "running"
        assert task(swarm, name)["NodeID"] == placed[name]["node"]
        assert sh(swarm, name, "ls /home/lab/workspace") == ""
    finally:
        decoy.remove(force=True)


NOTIFICATIONS = "jupyterlab-notifications-extension/notifications"


def test_broadcast_reaches_the_labs_on_both_nodes(swarm_hub, placed):
    # The hub reaches every lab through the proxy, whichever node runs it.
    assert len({user["node"] for user in placed.values()}) == 2
    body = {"message": "Maintenance at six", "type": "info", "auto_close": 10,
            "recipients": {"users": sorted(placed)}}
    r = requests.post(swarm_hub.hub_url("portal/api/broadcasts"), json=body, timeout=60,
                      headers={"Authorization": f"token {swarm_hub.token}"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["targeted"], out["delivered"], out["failed"]) == (2, 2, 0), out
    for name in placed:  # each lab's own queue holds it (as its page would read it)
        r = requests.get(f"{swarm_hub.url}user/{name}/{NOTIFICATIONS}", timeout=30,
                         headers={"Authorization": f"token {swarm_hub.token}"})
        assert r.status_code == 200, (name, r.status_code, r.text[:200])
        assert "Maintenance at six" in [n["message"] for n in r.json()["notifications"]]


def test_a_shared_lab_on_its_node_opens_for_the_friend_until_revoked(swarm_hub, placed):
    """Sharing on the Swarm: the friend reaches the owner's lab on its node through the proxy,
    by the lab's own OAuth with the hub; after the revoke a fresh visit is refused. (swb holds
    host power, which sharing would ask sudo mode for: swa shares.)"""
    owner, friend = placed["swa"]["portal"], placed["swb"]["portal"]
    assert share(owner, "swa", "swb").status_code == 200
    link = shared_with_me(friend)["swa"]
    assert in_lab(open_lab(friend, link))
    assert revoke(owner, "swa", "swb").status_code == 200
    r = open_lab(Portal(swarm_hub, "swb", PASSWORD), link)
    assert not in_lab(r) and r.status_code == 403, (r.status_code, r.url)


def mounted_volumes(swarm: Swarm, service: str) -> dict[str, str]:
    """Mount path -> volume name of a service's running task's container, on its node."""
    t = service_task(swarm, service)
    container = engine_of(swarm, t["NodeID"]).client().containers.get(
        t["Status"]["ContainerStatus"]["ContainerID"])
    return {m["Destination"]: m["Name"] for m in container.attrs["Mounts"]
            if m["Type"] == "volume"}


def new_task_running(swarm: Swarm, service: str, old_task: str, timeout: float = 120
                     ) -> dict[str, Any]:
    """The service's running task once it is not `old_task` (a re-created service)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(AssertionError, docker.errors.NotFound):
            found = service_task(swarm, service)
            if found["ID"] != old_task:
                return found
        time.sleep(0.5)
    raise AssertionError(f"{service} had no new running task within {timeout} s")


def test_a_switch_and_a_named_server_on_the_users_node(swarm, swarm_hub, placed, admin):
    """Issue 25 on the Swarm, with the two real images as two environments: the user on the
    worker (running dshub-lab, the configured image) switches to dshub-lab-noext: a new service
    from that image on the same node with the same volumes, answering through the proxy. A named
    server then runs as a service of its own on that node (the user's home and cache are
    there), with its own workspace, is sampled for usage on its own and culled when idle while
    the default server, active, runs on; deleting it removes that workspace on the worker only
    (a volume of the same name on the manager stays) and leaves the default server running."""
    name = next(n for n, i in placed.items() if i["node"] == swarm.node_id(swarm.worker))
    user, worker = placed[name]["portal"], swarm.node_id(swarm.worker)
    swarm.load_image(NOEXT_IMAGE)  # kept in the nodes' data roots: loaded on the first run only
    for env, image in (("sw-lab", "dshub-lab"), ("sw-noext", NOEXT_IMAGE)):
        r = swarm_hub.api("PUT", f"../portal/api/environments/{env}", json={"image": image})
        assert r.status_code == 200, r.text
    make_group(swarm_hub, "sw-named", name)
    r = swarm_hub.api("PUT", "../portal/api/limits/groups/sw-named", json={"named_servers": 1})
    assert r.status_code == 200, r.text
    default, named = PREFIX + name, f"{PREFIX}{name}--ws"
    decoy = swarm.manager.client().volumes.create(f"{named}_workspace")
    try:
        # The switch: a re-created service from the other image, pinned to the same node.
        volumes = mounted_volumes(swarm, default)
        sh(swarm, name, "echo kept > /home/lab/workspace/switch.txt")
        before = service_task(swarm, default)
        r = user.post(f"portal/users/{name}/recreate", {"environment": "sw-noext"})
        assert r.status_code == 200, r.text
        after = new_task_running(swarm, default, before["ID"])
        assert wait_state(user, name, {"running", "failed"}) == "running", swarm_hub.log_tail()
        assert after["NodeID"] == worker
        assert after["Spec"]["ContainerSpec"]["Image"].split("@")[0] == NOEXT_IMAGE
        assert mounted_volumes(swarm, default) == volumes
        assert sh(swarm, name, "cat /home/lab/workspace/switch.txt") == "kept"
        assert reachable(user)
        state = user.s.get(user.url(f"portal/api/users/{name}/server"), timeout=30).json()
        assert state["environment"] == "sw-noext", state

        # A named server: a service of its own beside it, on the user's node.
        r = user.post(f"portal/users/{name}/servers", {"name": "ws", "environment": "sw-lab"})
        assert r.status_code == 200 and "Server ws added" in r.text, r.text
        assert named_state(user, "ws", {"running", "failed"}) == "running", swarm_hub.log_tail()
        assert service_task(swarm, named)["NodeID"] == worker
        assert mounted_volumes(swarm, named) == {
            **volumes, "/home/lab/workspace": f"{named}_workspace"}
        assert f"{named}_workspace" in volume_names(swarm.worker)
        lab = user.s.get(f"{swarm_hub.url}user/{name}/ws/api", timeout=30)
        assert lab.status_code == 200 and "version" in lab.json(), lab.text[:200]
        card = admin.get(f"portal/users/{name}/servers/ws/card").text
        assert f"{RUN_PREFIX}d3" in card and 'data-environment="sw-lab"' in card, card

        # Sampled for usage on its own (its task's container found on the worker), then
        # culled when idle while the active default server runs on.
        deadline = time.monotonic() + 60
        while (sample := user.get(f"portal/api/users/{name}/usage",
                                  htmx=False).json()["servers"].get("ws")) is None:
            assert time.monotonic() < deadline, "the named server was never sampled"
            time.sleep(0.5)
        assert sample["memory_bytes"], sample
        # The other placed user's lab on the manager is idle too, and later tests need it.
        make_group(swarm_hub, "sw-keep", *(n for n in placed if n != name))
        try:
            cull_idle_named_server_keep_the_active_default(swarm_hub, user, "ws", ("sw-keep",))
        finally:
            swarm_hub.api("PUT", "../portal/api/culling",
                          json={"idle_after": "0", "exempt_groups": []})
        # Stopped and deleted: its service and workspace go, on the worker only.
        assert not swarm.manager.client().services.list(filters={"name": named})
        r = user.post(f"portal/users/{name}/servers/ws/delete", {"confirm": "yes"})
        assert r.status_code == 200 and "Server ws deleted" in r.text, r.text
        assert f"{named}_workspace" not in volume_names(swarm.worker)
        assert set(volumes.values()) <= volume_names(swarm.worker)
        assert f"{named}_workspace" in volume_names(swarm.manager)  # the decoy
        assert service_task(swarm, default)["ID"] == after["ID"]  # untouched
        assert reachable(user)
    finally:
        decoy.remove(force=True)
        for env in ("sw-lab", "sw-noext"):
            swarm_hub.api("DELETE", f"../portal/api/environments/{env}")


def test_configured_engine_paths_never_reach_a_swarm_lab(swarm, tmp_path_factory):
    """The attack of test_engine_paths.py on the real swarm: a hub of its own whose configuration
    binds the engine's sockets (however spelled), their directories or a parent into every lab
    starts its labs without any of them (once only the exact socket path was dropped here)."""
    directory = tmp_path_factory.mktemp("swarm-hostile-hub")
    extra = directory / "hostile_config.py"
    extra.write_text(f"c.PortalSpawner.read_only_volumes = {HOSTILE_BINDS!r}\n")
    own_prefix = f"{RUN_PREFIX}hostile-"
    hub = Hub(directory / "data", base_url="/", env={
        "DOCKER_SWARM": "1", "DOCKER_HOST": swarm.manager.url,
        "DSHUB_TEST_EXTRA_CONFIG": str(extra), "DSHUB_TEST_PREFIX": own_prefix})
    hub.start()
    try:
        assert signup(hub, "admin").status_code == 200
        user = Portal(hub, "admin")  # in neither Docker-access group
        r = user.post("portal/users/admin/start")
        assert r.status_code == 200, r.text
        assert wait_state(user, "admin", {"running", "failed"}) == "running", hub.log_tail()
        service = f"{own_prefix}jupyterlab-admin"
        tasks = swarm.manager.client().api.tasks(
            filters={"service": service, "desired-state": "running"})
        running = [t for t in tasks if t["Status"]["State"] == "running"]
        assert len(running) == 1, tasks
        node = engine_of(swarm, running[0]["NodeID"])
        lab = node.client().containers.get(running[0]["Status"]["ContainerStatus"]["ContainerID"])
        mounts = lab.attrs["Mounts"]
        assert not [m for m in mounts if m["Type"] == "bind"], mounts  # no host path at all
        assert not [m for m in mounts if m["Destination"].startswith("/hostile")], mounts
        assert {m["Destination"]: m.get("Name") for m in mounts}["/home/lab/workspace"] == (
            f"{service}_workspace")  # the lab's own volumes are still there
        assert "left out (they reach the Docker engine)" in hub.log_path.read_text()
        r = user.post("portal/users/admin/stop")
        assert r.status_code == 200, r.text
        assert wait_state(user, "admin", {"stopped"}) == "stopped"
    finally:
        hub.stop()


def test_worker_down_card_says_so_and_other_user_unaffected(swarm, placed, admin):
    worker = swarm.node_id(swarm.worker)
    name = next(n for n, i in placed.items() if i["node"] == worker)
    other = next(n for n in placed if n != name)
    swarm.worker.stop()
    deadline = time.monotonic() + 30
    html = ""
    while time.monotonic() < deadline:
        html = admin.get(f"portal/users/{name}/card").text
        if "unreachable" in html:
            break
        time.sleep(0.5)
    assert f"node {RUN_PREFIX}d3" in html and "unreachable" in html, html
    # The admin dashboard warns of it too, once the manager has marked the node down.
    deadline = time.monotonic() + 60
    board = ""
    while time.monotonic() < deadline:
        board = admin.get("portal/admin/dashboard").text
        if "is down" in board:
            break
        time.sleep(1)
    assert f"Swarm node {RUN_PREFIX}d3 (" in board and "is down: its labs cannot" in board, board
    assert reachable(placed[other]["portal"])
    assert card_state(admin.get(f"portal/users/{other}/card").text) == "running"
    # Nothing moved or removed: the service is still there, pinned to the worker, and no
    # container of it runs on the manager.
    api = swarm.manager.client().api
    service = api.inspect_service(PREFIX + name)
    assert f"node.id=={worker}" in service["Spec"]["TaskTemplate"]["Placement"]["Constraints"]
    on_manager = swarm.manager.client().containers.list(
        all=True, filters={"label": f"com.docker.swarm.service.name={PREFIX}{name}"})
    assert on_manager == []
    assert f"{PREFIX}{name}_home" not in volume_names(swarm.manager)


def test_stack_file_parses_and_deploys_the_hub_in_swarm_mode():
    """compose.swarm.yml through docker's own stack loader (its images cannot be pulled here)."""
    out = subprocess.run(["docker", "stack", "config", "-c", "compose.swarm.yml"], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "HTTPS_PORT": "8443"})
    assert out.returncode == 0, out.stderr
    stack = yaml.safe_load(out.stdout)
    hub = stack["services"]["jupyterhub"]
    assert hub["environment"]["DOCKER_SWARM"] == "1"
    assert hub["environment"]["DOCKER_NETWORK_NAME"] == "jupyterhub_overlay"
    assert "node.role == manager" in hub["deploy"]["placement"]["constraints"]
    network = stack["networks"]["jupyterhub_overlay"]
    assert network["driver"] == "overlay" and network["attachable"] is True
    # Routes from the repository's file, not from the engine (Traefik has no socket).
    traefik = stack["services"]["traefik"]
    assert "--providers.file.filename=/etc/traefik/dynamic.yml" in traefik["command"]
    assert not any("docker.sock" in str(v) for v in traefik.get("volumes", []))
    assert stack["services"]["traefik"]["ports"][0]["published"] == 8443
