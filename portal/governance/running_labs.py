"""Owns which servers the usage sampler samples: the hub's ready servers, default and named,
each with its container, volumes and node, from the hub's own records (no Docker call).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..lab.volume_names import UserVolume
from ..platform.hub_queries import running_spawners
from ..platform.pacing import with_turns
from .usage import ONE_ENGINE, Lab

CHUNK = 100  # labs listed between two turns of the event loop


async def running_labs(app: Any) -> list[Lab]:
    """The labs the hub has ready servers for, default and named (from its own records, no
    Docker call); a thousand take tens of milliseconds, so the loop gets a turn every `CHUNK`
    labs."""
    labs = []
    async for orm_spawner in with_turns(running_spawners(app.db), CHUNK):
        server = orm_spawner.name
        user = app.users[orm_spawner.user]
        spawner = user.spawners[server] if server else user.spawner
        if spawner.ready and not spawner.pending:
            labs.append(Lab(spawner.user.name, spawner.object_name, lab_volumes(spawner, server),
                            spawner.location.locator(), spawner.image,
                            spawner.location.node_title() or ONE_ENGINE, server))
    return labs


def lab_volumes(spawner: Any, server: str) -> tuple[UserVolume, ...]:
    """The server's volumes; a named server's own ones keyed `<server>/<key>`, as Manage
    volumes names them: the history then tells its workspace from the default server's, and
    a user's storage is the union of their servers' volumes."""
    own = set(spawner.volume_names.per_server) if server else set()
    return tuple(replace(v, key=f"{server}/{v.key}") if v.key in own else v
                 for v in spawner.owned_volumes())
