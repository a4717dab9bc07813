"""Owns the guard on the hub's periodic poll of a lab: what a poll saw is acted on only while the
server is still the one it looked at.

JupyterHub polls each running server (`Spawner.poll_and_notify`); when a poll finds it gone, its
callbacks stop the hub's record of it. A poll takes a while (a Docker inspect). A Start pressed
meanwhile clears the record itself and begins a new spawn, and the callbacks of the poll that
began before then stopped that new spawn half-way (a CI run saw the spawn fail with "'NoneType'
object has no attribute 'url'", the card saying failed). So every start and stop of the server
moves the guard's generation and a poll whose generation moved is dropped; while a poll's
callbacks stop the record, `acting` says so, and a start waits for them (servers/actions.py).
"""

from __future__ import annotations

from typing import Any

from jupyterhub.utils import maybe_future

from ..platform.upstream import take_poll_callbacks


class PollGuard:
    def __init__(self) -> None:
        self.generation = 0  # moves at every start and stop of the server
        self.acting = False  # a poll's callbacks are stopping the hub's record

    def moved(self) -> None:
        self.generation += 1

    async def poll_and_notify(self, spawner: Any) -> int | None:
        """What `Spawner.poll_and_notify` does, unless the server moved while the poll looked."""
        generation = self.generation
        status = await spawner.poll()
        if status is None or generation != self.generation:
            return None  # still running; or started or stopped again: what it saw is gone
        spawner.stop_polling()
        self.acting = True
        try:
            for callback in take_poll_callbacks(spawner):
                try:
                    await maybe_future(callback())
                except Exception:
                    spawner.log.exception("Unhandled error in poll callback for %s", spawner)
        finally:
            self.acting = False
        return status


def poll_acting(spawner: Any) -> bool:
    """A poll of the hub found this server gone and is stopping its record."""
    guard = getattr(spawner, "poll_guard", None)
    return bool(guard and guard.acting)
