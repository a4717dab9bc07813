"""Owns the portal's background work: named tasks, their failures, shutdown, bounded waits.

JupyterHub's shutdown (SIGTERM/SIGINT) cancels every task of the loop after its own clean-up;
tasks started here log that as a cancellation, not as a failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .logs import portal_logger

log = portal_logger("tasks")
T = TypeVar("T")

_running: set[asyncio.Task] = set()


def in_background(work: Awaitable[T], name: str) -> asyncio.Task[T | None]:
    """Run `work` on the hub's loop; a failure is logged with `name`, never lost or raised."""

    async def run() -> T | None:
        try:
            return await work
        except asyncio.CancelledError:
            log.info("%s: cancelled (the hub is stopping)", name)
            raise
        except Exception:
            log.exception("%s failed", name)
            return None

    task = asyncio.ensure_future(run())
    task.set_name(name)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


def running() -> list[str]:
    """Names of the background tasks still running (for logs and tests)."""
    # A copy first: an in-process test hub adds tasks from its own thread meanwhile.
    return sorted(t.get_name() for t in list(_running) if not t.done())


async def cancel_all() -> None:
    """Cancel every background task of this loop and wait for them (the hub's shutdown does
    this for the whole loop)."""
    loop = asyncio.get_running_loop()
    tasks = [t for t in _running if not t.done() and t.get_loop() is loop]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def wait_until(condition: Callable[[], Any], bound: float, interval: float = 0.05) -> bool:
    """Check `condition` until it holds or `bound` seconds pass; returns whether it held.

    For hub state that has no event to await (a spawner becoming pending, a stop finishing).
    """
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True
