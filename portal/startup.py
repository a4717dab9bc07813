"""Run portal work alongside a running hub, never on a plain import of the configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .logs import portal_logger

log = portal_logger()
_tasks: set[asyncio.Task] = set()


def when_hub_runs(start: Callable[[Any], Awaitable[None]], name: str) -> bool:
    """Schedule `start(app)` once the hub's database is ready; False outside a running hub.

    JupyterHub 5 loads its config file inside its running event loop, so a loop here means a
    hub is starting; importing the config anywhere else (tests, tools) has none.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False

    async def wait_then_start() -> None:
        from jupyterhub.app import JupyterHub

        app = JupyterHub.instance()
        # The web application is made last in initialize(): database, users, groups are ready.
        while getattr(app, "tornado_application", None) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        try:
            await start(app)
        except Exception:
            log.exception("%s stopped with an error", name)

    task = asyncio.ensure_future(wait_then_start())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return True
