"""The usage sampler over a user's several servers (named servers): each sampled and kept
under its own key, and the user's volumes counted once for their storage quota."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.governance.usage import Lab, UsageCollector, lab_volumes
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
