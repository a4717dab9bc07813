"""The hub's periodic poll acts only on the server it looked at (portal/lab/poll_guard.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from portal.lab.poll_guard import PollGuard, poll_acting

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


class FakeSpawner:
    """What poll_and_notify touches: poll(), stop_polling(), the callbacks, a log."""

    def __init__(self, guard: PollGuard) -> None:
        self.poll_guard = guard
        self.answer: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._callbacks: list = []
        self.polling = True
        self.log = logging.getLogger("test-poll-guard")

    async def poll(self) -> int | None:
        return await self.answer

    def stop_polling(self) -> None:
        self.polling = False


async def test_a_poll_that_finds_the_server_gone_runs_its_callbacks_once():
    guard = PollGuard()
    spawner = FakeSpawner(guard)
    seen: list[bool] = []

    async def stopped() -> None:
        seen.append(poll_acting(spawner))  # a Start waits while this runs

    spawner._callbacks = [stopped]
    spawner.answer.set_result(137)
    assert await guard.poll_and_notify(spawner) == 137
    assert seen == [True] and not poll_acting(spawner)
    assert spawner._callbacks == [] and spawner.polling is False


@pytest.mark.parametrize("moves", [1, 2])  # the portal's clear; the clear and the new start
async def test_a_poll_begun_before_a_stop_or_start_is_dropped(moves):
    guard = PollGuard()
    spawner = FakeSpawner(guard)
    ran: list[str] = []

    async def stopped() -> None:
        ran.append("stopped the record")

    spawner._callbacks = [stopped]
    polling = asyncio.ensure_future(guard.poll_and_notify(spawner))
    await asyncio.sleep(0)  # the poll is waiting on Docker
    for _ in range(moves):
        guard.moved()
    spawner.answer.set_result(137)  # it saw the old container gone
    assert await polling is None
    assert ran == [] and spawner.polling is True  # nothing stopped, still polling
    assert spawner._callbacks == [stopped]  # kept for the server that runs next


async def test_a_running_server_changes_nothing():
    guard = PollGuard()
    spawner = FakeSpawner(guard)
    spawner._callbacks = [lambda: None]
    spawner.answer.set_result(None)
    assert await guard.poll_and_notify(spawner) is None
    assert len(spawner._callbacks) == 1 and spawner.polling is True


def test_a_spawner_without_a_guard_is_never_acting():
    assert poll_acting(object()) is False
