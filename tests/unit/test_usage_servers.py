"""The usage sampler over a user's several servers (named servers): each sampled and kept
under its own key, and the user's volumes counted once for their storage quota."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.governance.running_labs import lab_volumes
from portal.governance.usage import Lab, LabUsage, UsageCollector
from portal.governance.user_usage import combined, user_usage
from portal.lab.volume_names import UserVolume
from tests.unit.test_usage_location import MIB, Engine

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


class Sizes:
    """The hub-wide volume sizes (portal/lab/volume_sizes.py), by Docker name."""

    def __init__(self, by_name: dict[str, int]) -> None:
        self.by_name = by_name

    async def current(self) -> SimpleNamespace:
        return SimpleNamespace(by_name=self.by_name)


def volumes(*names: str) -> tuple[UserVolume, ...]:
    return tuple(UserVolume(name.rsplit("_", 1)[1], name, "/", "") for name in names)


async def test_every_server_is_sampled_under_its_own_key():
    engine = Engine({"lab-ann": 100 * MIB, "lab-ann--gpu": 300 * MIB, "lab-bo": 50 * MIB})
    sizes = Sizes({"ann_home": 10, "ann_workspace": 20, "ann--gpu_workspace": 40, "bo_home": 5})
    collector = UsageCollector(engine, interval=5, sizes=sizes)  # type: ignore[arg-type]
    labs = [Lab("ann", "lab-ann", volumes("ann_home", "ann_workspace")),
            Lab("ann", "lab-ann--gpu", volumes("ann_home", "ann--gpu_workspace"), server="gpu"),
            Lab("bo", "lab-bo", volumes("bo_home"))]
    await collector.collect(labs)
    assert set(collector.all()) == {"ann", "ann/gpu", "bo"}
    assert collector.get("ann").memory == 100 * MIB
    assert collector.get("ann", "gpu").memory == 300 * MIB  # not the default's
    assert collector.get("ann", "gpu").volumes == {"home": 10, "workspace": 40}
    assert collector.get("ann").volumes == {"home": 10, "workspace": 20}
    # Home is mounted into both: the quota weighs it once.
    assert collector.user_volumes("ann") == {"ann_home": 10, "ann_workspace": 20,
                                             "ann--gpu_workspace": 40}
    # The named server stops: its sample goes, the default's stays.
    await collector.collect([labs[0], labs[2]])
    assert collector.get("ann", "gpu") is None and collector.get("ann") is not None
    assert collector.user_volumes("ann") == {"ann_home": 10, "ann_workspace": 20}


def test_a_named_servers_own_volumes_are_keyed_with_its_name():
    """As Manage volumes names them (`gpu/workspace`); home and cache keep their keys."""
    owned = [UserVolume("home", "ann_home", "/home", ""),
             UserVolume("workspace", "ann--gpu_workspace", "/w", "")]
    spawner = SimpleNamespace(volume_names=SimpleNamespace(per_server=("workspace",)),
                              owned_volumes=lambda: owned)
    assert [v.key for v in lab_volumes(spawner, "gpu")] == ["home", "gpu/workspace"]
    assert [v.key for v in lab_volumes(spawner, "")] == ["home", "workspace"]


def test_a_users_servers_add_up_to_one_line_and_unknown_stays_unknown():
    default = LabUsage(cpus=0.5, memory=100 * MIB, memory_limit=1024 * MIB,
                       volumes={"home": 10, "workspace": 20}, at=1000.0)
    gpu = LabUsage(cpus=0.25, memory=300 * MIB, memory_limit=2048 * MIB,
                   volumes={"home": 10, "gpu/workspace": 40}, at=990.0)
    both = combined([default, gpu])
    assert (both.cpus, both.memory, both.memory_limit) == (0.75, 400 * MIB, 3072 * MIB)
    assert both.volumes == {"home": 10, "workspace": 20, "gpu/workspace": 40}  # home once
    assert both.at == 990.0  # the older sample: a stale server makes the line stale
    # A server without a second sample or a memory figure: the sum is not known yet.
    fresh = LabUsage(cpus=None, memory=None, memory_limit=0)
    partial = combined([default, fresh])
    assert (partial.cpus, partial.memory, partial.memory_limit) == (None, None, 0)
    assert combined([default]) is default and combined([]) is None


async def test_the_user_line_reads_only_the_servers_named():
    engine = Engine({"lab-ann": 100 * MIB, "lab-ann--gpu": 300 * MIB})
    collector = UsageCollector(engine, interval=5)  # type: ignore[arg-type]
    await collector.collect([Lab("ann", "lab-ann"), Lab("ann", "lab-ann--gpu", server="gpu")])
    assert user_usage(collector, "ann", ["", "gpu"]).memory == 400 * MIB
    assert user_usage(collector, "ann", ["gpu"]).memory == 300 * MIB
    assert user_usage(collector, "ann", []) is None


def test_a_running_servers_lab_is_made_once_until_its_image_or_name_changes():
    """The sampler lists the running labs every pass: a lab is made again (its volume names
    rendered) only when the server was started again differently."""
    from portal.governance.running_labs import _lab_of
    from portal.lab.location import OneEngine

    class Spawner:  # what running_labs reads of a PortalSpawner
        def __init__(self) -> None:
            self.object_name, self.image, self.renders = "lab-ann", "lab:1", 0
            self.user = type("User", (), {"name": "ann"})()
            self.location = OneEngine(lambda: self.object_name)
            self.volume_names = type("Names", (), {"per_server": ()})()

        def owned_volumes(self) -> list[UserVolume]:
            self.renders += 1
            return [UserVolume("home", f"{self.object_name}_home", "/home/lab", "")]

    spawner = Spawner()
    first = _lab_of(spawner, "")
    assert _lab_of(spawner, "") is first and spawner.renders == 1
    spawner.image = "lab:2"  # restarted with another environment
    second = _lab_of(spawner, "")
    assert second is not first and second.image == "lab:2" and spawner.renders == 2
