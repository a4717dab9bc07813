"""Owns running portal work alongside a serving hub, never on a plain load of the config."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .logs import portal_logger
from .tasks import in_background, wait_until
from .upstream import serving_hub, web_app_ready

log = portal_logger()
# How long the hub may take from loading its config to making its web application.
HUB_READY_BOUND = 600.0


def when_hub_runs(start: Callable[[Any], Awaitable[None]], name: str) -> bool:
    """Schedule `start(app)` once the hub's database is ready; False unless a hub is serving."""
    app = serving_hub()
    if app is None:
        return False

    async def wait_then_start() -> None:
        if not await wait_until(lambda: web_app_ready(app), HUB_READY_BOUND, interval=0.1):
            log.error("%s: the hub was not ready within %.0f s; not started", name,
                      HUB_READY_BOUND)
            return
        await start(app)

    in_background(wait_then_start(), name)
    return True
