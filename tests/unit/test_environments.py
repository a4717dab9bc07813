"""Environments' pure rules (portal/governance/environments.py) and what the spawner holds of
the one a start chose (portal/lab/chosen_environment.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from portal.governance.environments import (
    Environment,
    capped,
    chosen_name,
    normal_image,
    options_from_body,
    parse_environment,
    pick,
)
from portal.governance.limits import Limits
from portal.lab.chosen_environment import ChosenEnvironment
from portal.lab.hooks import LabEnvironment
from portal.platform.errors import ActionRefused

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

GIB = 1024**3


def test_an_environment_from_a_form_and_from_json_is_the_same():
    form = parse_environment({"name": "py", "description": " Python ", "image": "dshub-lab",
                              "memory": "2G", "cpus": "1.5", "gpu": "", "groups": "b, a a",
                              "variables": "A=1\n\nB = x=y"})
    json = parse_environment({"name": "py", "description": "Python", "image": "dshub-lab",
                              "memory": 2 * GIB, "cpus": 1.5, "gpu": False,
                              "groups": ["a", "b"], "variables": {"A": "1", "B": " x=y"}})
    assert form == json == Environment("py", "Python", "dshub-lab:latest", 2 * GIB, 1.5, False,
                                       {"A": "1", "B": " x=y"}, ("a", "b"))
    assert parse_environment(json.as_json()) == json  # a GET's entry is a PUT's body
    bare = parse_environment({"name": "x", "image": "reg.example:5000/t/lab@sha256:" + "a" * 64,
                              "memory": "none", "cpus": None, "gpu": "on"})
    assert (bare.memory, bare.cpus, bare.gpu, bare.groups) == (None, None, True, ())


@pytest.mark.parametrize(("fields", "words"), [
    ({"name": "", "image": "x"}, "is not an environment name"),
    ({"name": "UPPER", "image": "x"}, "is not an environment name"),
    ({"name": "ok", "image": "has space"}, "is not a Docker image name"),
    ({"name": "ok", "image": "x", "memory": "1K"}, "is not a size"),
    ({"name": "ok", "image": "x", "memory": True}, "is not a size"),
    ({"name": "ok", "image": "x", "cpus": "0"}, "is not valid"),
    ({"name": "ok", "image": "x", "gpu": "maybe"}, "GPU must be true or false"),
    ({"name": "ok", "image": "x", "variables": "JPY_API_TOKEN=1"}, "set by the hub"),
    ({"name": "ok", "image": "x", "variables": {"MEM_LIMIT": "1"}}, "set by the hub"),
    ({"name": "ok", "image": "x", "variables": {"A": 1}}, "must be text"),
    ({"name": "ok", "image": "x", "groups": [1]}, "list of group names"),
    ({"name": "ok", "image": "x", "description": "d" * 501}, "at most 500"),
    ({"name": "ok", "image": "x", "extra": 1}, "Unknown fields: extra"),
    ({"name": 3, "image": "x"}, "must be text"),
])
def test_bad_fields_are_refused_with_a_sentence(fields, words):
    with pytest.raises(ActionRefused) as refused:
        parse_environment(fields)
    assert refused.value.status == 400 and words in refused.value.message


def test_images_get_dockers_default_tag_only_when_they_have_none():
    assert normal_image("dshub-lab") == "dshub-lab:latest"
    assert normal_image("reg:5000/lab") == "reg:5000/lab:latest"
    assert normal_image("reg:5000/lab:2") == "reg:5000/lab:2"
    assert normal_image("lab@sha256:" + "0" * 64) == "lab@sha256:" + "0" * 64


def test_the_groups_cap_an_environments_defaults():
    assert capped(Limits(4 * GIB, 2.0), Limits(GIB, None)) == Limits(GIB, 2.0)
    assert capped(Limits(None, 1.0), Limits(2 * GIB, 4.0)) == Limits(2 * GIB, 1.0)
    assert capped(Limits(), Limits()) == Limits()
    assert capped(Limits(GIB, 0.5), Limits(8 * GIB, 8.0)) == Limits(GIB, 0.5)


def test_a_start_gets_the_named_environment_or_the_first_the_user_may_use():
    envs = [Environment("a-team", "", "i:1", groups=("team",)), Environment("b", "", "i:2")]
    assert pick(envs, set(), None).name == "b"
    assert pick(envs, {"team"}, None).name == "a-team"
    assert pick(envs, {"team"}, "b").name == "b"
    assert pick([], set(), None) is None
    assert pick(envs[:1], set(), None) is None  # none open: the configured image
    for name, words in (("a-team", "You may not use 'a-team'"), ("zz", "no environment named")):
        with pytest.raises(ActionRefused) as refused:
            pick(envs, set(), name)
        assert refused.value.status == 400 and words in refused.value.message
        assert "Environments you may use: b." in refused.value.message


def test_the_choice_is_read_from_user_options_as_both_jupyterhub_lines_send_them():
    assert chosen_name(None) is None and chosen_name({}) is None
    assert chosen_name({"environment": " b "}) == "b"
    assert chosen_name({"user_options": {"environment": "b"}}) == "b"  # 5.5 hands the body over
    assert chosen_name({"environment": ["b"]}) == "b"  # /hub/spawn?environment=b
    for bad in ({"environment": ""}, {"environment": 3}, {"environment": ["a", "b"]}, [1]):
        with pytest.raises(ActionRefused):
            chosen_name(bad)
    assert options_from_body({"wait": True}) is None
    assert options_from_body({"user_options": None}) is None
    assert options_from_body({"environment": "b"}) == {"environment": "b"}
    assert options_from_body({"user_options": {"environment": "b"}}) == {"environment": "b"}
    with pytest.raises(ActionRefused):
        options_from_body({"user_options": "b"})


def test_the_spawner_keeps_its_last_environment_and_falls_back_to_the_configured_image():
    chosen = ChosenEnvironment("configured:latest")
    lab = LabEnvironment("py", "dshub-lab:latest", GIB, 1.0, False, {"A": "1"})

    async def choose(options, groups):
        return lab if options.get("environment") == "py" else None

    async def groups_limits(groups):
        return Limits(2 * GIB, None)

    async def run() -> None:
        assert await chosen.choose(choose, {"environment": "py"}, set()) == "dshub-lab:latest"
        assert (chosen.gpu, chosen.variables) == (False, {"A": "1"})
        assert await chosen.limits(groups_limits, set(), (None, None)) == (GIB, 1.0)
        state = chosen.saved({"object_id": "x"})
        assert state == {"object_id": "x", "environment": "py", "image": "dshub-lab:latest"}
        assert await chosen.choose(choose, None, set()) == "configured:latest"
        assert (chosen.gpu, chosen.variables, chosen.name) == (True, {}, "")
        assert await chosen.limits(groups_limits, set(), (None, None)) == (2 * GIB, None)
        assert await chosen.limits(None, set(), (5, 0.5)) == (5, 0.5)  # plain use: unchanged
        assert await chosen.choose(None, {"environment": "py"}, set()) == "configured:latest"
        # The hub's pre-spawn hook may set the image of one start (the tests' noext users):
        # without an environment that image is used; an environment's image is undone after.
        assert await chosen.choose(choose, None, set(), "hooked:1") == "hooked:1"
        assert await chosen.choose(choose, {"environment": "py"}, set(),
                                   "hooked:1") == "dshub-lab:latest"
        assert await chosen.choose(choose, None, set(), "dshub-lab:latest") == "hooked:1"
        again = ChosenEnvironment("configured:latest")
        again.load(state)  # a hub restart: the running (or last) environment comes back
        assert again.name == "py" and again.saved({}) == {"environment": "py",
                                                          "image": "dshub-lab:latest"}
        assert again.started_from == "dshub-lab:latest"  # what the admins' image list reads

    asyncio.run(run())


def test_the_hubs_user_options_hook_names_only_what_no_one_takes(caplog):
    from types import SimpleNamespace

    from portal.lab.chosen_environment import apply_user_options

    log = logging.getLogger("test.spawner")
    spawner = SimpleNamespace(log=log, user=SimpleNamespace(name="ann"))
    with caplog.at_level(logging.WARNING, logger="test.spawner"):
        apply_user_options(spawner, {"environment": "py", "user_options": {}})
        assert caplog.records == []
        apply_user_options(spawner, {"environment": "py", "image": "x", "cpu": 4})
    assert [r.getMessage() for r in caplog.records] == [
        "Received unhandled user_options for ann: cpu, image"]
