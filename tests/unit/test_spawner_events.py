"""The spawner reports what the hub asks of it (pushed updates), whoever asked, without Docker."""

from __future__ import annotations

import pytest

from portal.operations.states import ServerChange
from tests.unit.test_spawner_names import make_spawner


def reporting(**traits):
    heard: list[tuple[str, ServerChange]] = []
    spawner = make_spawner(server_changed=lambda s, change: heard.append((s.user.name, change)),
                           **traits)
    return spawner, heard


async def test_a_start_is_reported_before_anything_else_even_a_refused_one():
    spawner, heard = reporting(start_guard=lambda name: "volumes are being reset")
    with pytest.raises(RuntimeError, match="volumes are being reset"):
        await spawner.start()
    assert heard == [("john.doe", ServerChange.START_REQUESTED)]


async def test_a_stop_is_reported_when_it_begins_and_when_it_ends():
    spawner, heard = reporting(keep_failed_containers=True)
    spawner._never_ran = True  # the kept failed container: a stop without Docker
    await spawner.stop()
    assert heard == [("john.doe", ServerChange.STOPPING), ("john.doe", ServerChange.STOPPED)]


async def test_without_the_portal_nothing_is_reported():
    spawner = make_spawner(start_guard=lambda name: "no")
    with pytest.raises(RuntimeError):
        await spawner.start()  # server_changed is None: no call, no error
