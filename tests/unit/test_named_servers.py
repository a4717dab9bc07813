"""Named servers' rules without a hub: names (JupyterHub 6's), the maximum per group, Docker and
OAuth names that no other user's server can take, and which volumes are per server."""

from __future__ import annotations

import asyncio
import itertools
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from portal.governance.limits import GroupLimit, parse_servers, server_maximum
from portal.lab.server_names import (
    check_creation,
    check_start,
    name_refusal,
    oauth_client_id,
    start_refusal,
)
from portal.lab.spawner import PortalSpawner
from portal.lab.volume_names import named_server_volumes
from portal.platform.errors import ActionRefused
from tests.unit.test_spawner_names import FakeUser, make_spawner

try:  # JupyterHub 6's own rule, where the line in use has it
    from jupyterhub.slugs import is_valid_safe_slug
except ImportError:  # 5.5
    is_valid_safe_slug = None

def server_of(user_name: str, server: str) -> PortalSpawner:
    """The spawner of `user_name`'s server (the hub's record gives its name)."""
    record = SimpleNamespace(name=server, display_name=server, server=None, user_options={})
    return PortalSpawner(user=FakeUser(user_name), hub=None, orm_spawner=record)


NAMES = ["gpu", "lab-1", "a", "x" * 30, "x" * 31, "Lab", "lab_1", "-lab", "lab-", "la--b",
         "1lab", "läb", "", "lab 1", "lab/1", "l.b", "a1-b2-c3"]


@pytest.mark.parametrize("name", NAMES)
def test_server_names_follow_jupyterhub_6s_rule(name):
    valid = name_refusal(name) is None
    assert valid == (name in ("gpu", "lab-1", "a", "x" * 30, "a1-b2-c3"))
    if is_valid_safe_slug is not None:
        assert valid == is_valid_safe_slug(name)


def test_a_refused_name_says_why_in_a_sentence():
    refusal = name_refusal("Bad\x00Name")
    assert refusal is not None and "not a valid server name" in refusal and "\x00" not in refusal


def test_the_maximum_is_the_highest_of_the_groups_else_the_default():
    assert server_maximum(0, []) == 0
    assert server_maximum(2, [GroupLimit("a")]) == 2  # no override of its own
    assert server_maximum(2, [GroupLimit("a", servers=0)]) == 0  # a group may lower it
    assert server_maximum(0, [GroupLimit("a", servers=1), GroupLimit("b", servers=3)]) == 3


@pytest.mark.parametrize(("raw", "parsed"), [("", None), ("default", None), ("none", 0),
                                             ("0", 0), (3, 3), ("100", 100)])
def test_a_groups_maximum_parses(raw, parsed):
    assert parse_servers(raw) == parsed


@pytest.mark.parametrize("raw", ["101", "-1", "1.5", "two", 2.0, True, [1]])
def test_a_bad_maximum_is_a_400_with_a_sentence(raw):
    with pytest.raises(ActionRefused) as refused:
        parse_servers(raw)
    assert refused.value.status == 400 and "Named servers" in refused.value.message


def test_creation_refusals_bad_name_first_then_the_maximum():
    with pytest.raises(ActionRefused) as refused:
        check_creation("ann", [], "Bad", 0)
    assert refused.value.status == 400
    with pytest.raises(ActionRefused) as refused:
        check_creation("ann", [], "ok", 0)
    assert refused.value.status == 409 and "only the default one" in refused.value.message
    with pytest.raises(ActionRefused) as refused:
        check_creation("ann", ["a", "b"], "c", 2)
    assert refused.value.status == 409 and "the maximum of 2" in refused.value.message
    check_creation("ann", ["a", "b"], "b", 2)  # an existing one is no creation
    check_creation("ann", ["a"], "b", 2)


def test_only_the_oldest_servers_within_the_maximum_start():
    assert start_refusal("ann", ["a", "b"], "", 0) is None  # the default server
    assert start_refusal("ann", ["a", "b"], "a", 1) is None
    refusal = start_refusal("ann", ["a", "b"], "b", 1)
    assert refusal is not None and "beyond the maximum of 1" in refusal


def test_container_and_volume_names_of_a_named_server():
    spawner = server_of("john.doe", "gpu-2")
    assert spawner.object_name == "jupyterlab-john-2edoe--gpu-2d2"
    assert {v.key: v.name for v in spawner.owned_volumes()} == {
        "home": "jupyterlab-john-2edoe_home",  # the user's, shared by their servers
        "workspace": "jupyterlab-john-2edoe--gpu-2d2_workspace",  # this server's own
        "cache": "jupyterlab-john-2edoe_cache",
    }
    assert [v.name for v in named_server_volumes(make_spawner("john.doe"), "gpu-2")] == [
        "jupyterlab-john-2edoe--gpu-2d2_workspace"]
    binds = spawner.volume_binds
    assert set(binds) == {v.name for v in spawner.owned_volumes()} | {"jupyterhub_shared"}
    # The default server's names are what they were before named servers.
    default = make_spawner("john.doe")
    assert default.object_name == "jupyterlab-john-2edoe"
    assert "jupyterlab-john-2edoe_workspace" in default.volume_binds


USERS = ["bob", "bob-x", "bob--x", "bob-2dx", "bob_x", "x", "bob-x-y", "bob-x--y"]
SERVERS = ["", "x", "y", "x-y", "x--y", "2dx"]


def test_no_server_takes_another_users_names():
    """Every (user, server) pair gets its own container, volumes and OAuth client."""
    containers, volumes, clients = {}, {}, {}
    for user, server in itertools.product(USERS, SERVERS):
        if server and name_refusal(server) is not None:
            continue
        spawner = server_of(user, server)
        client = oauth_client_id(f"jupyterhub-user-{user}", spawner.user, server)
        for table, value in ((containers, spawner.object_name), (clients, client)):
            assert table.setdefault(value, (user, server)) == (user, server), value
        for volume in spawner.owned_volumes():
            owner = user if volume.key != "workspace" else (user, server)
            assert volumes.setdefault(volume.name, owner) == owner, volume.name


def test_a_name_template_without_the_server_name_still_names_each_server_apart():
    record = SimpleNamespace(name="gpu", display_name="gpu", server=None, user_options={})
    config = Config()  # as a deployment's: the image (which renders the name at once) and all
    config.PortalSpawner.image = "dshub-lab:latest"
    config.PortalSpawner.name_template = "t-jupyterlab-{username}"
    spawner = PortalSpawner(config=config, user=FakeUser("ann"), hub=None, orm_spawner=record)
    assert spawner.object_name == "t-jupyterlab-ann--gpu"
    assert make_spawner("ann", name_template="t-jupyterlab-{username}").object_name == (
        "t-jupyterlab-ann")


def test_the_spawner_starts_no_server_whose_name_breaks_the_rule():
    """JupyterHub 5.5's /hub/spawn/<user>/<server> checks no name: `X` would be `x`'s container."""
    record = SimpleNamespace(name="X", display_name="X", server=None, user_options={})
    spawner = PortalSpawner(user=FakeUser("ann"), hub=None, orm_spawner=record)
    assert spawner.object_name == server_of("ann", "x").object_name  # why it must not start
    with pytest.raises(RuntimeError, match="not a valid server name"):
        asyncio.run(check_start(spawner, set()))
