"""Owns which servers the usage sampler samples: the hub's ready servers, default and named,
each with its container, volumes and node, from the hub's own records (no Docker call).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from weakref import WeakKeyDictionary

from jupyterhub import orm
from sqlalchemy import select

from ..lab.volume_names import UserVolume
from ..platform.hub_queries import running_spawners
from ..platform.pacing import with_turns
from .usage import ONE_ENGINE, Lab

CHUNK = 100  # labs listed between two turns of the event loop


async def running_labs(app: Any) -> list[Lab]:
    """The labs the hub has ready servers for, default and named (from its own records, no
    Docker call); a thousand take tens of milliseconds, so the loop gets a turn every `CHUNK`
    labs."""
    # Two columns per running server; every user of one is in the hub's memory once it has
    # started (init_spawners), so each is found there without a query. Rows as ORM objects
    # cost a tenth of a second of the loop a pass at 2,000 (docs/benchmarks.md, section 15).
    rows = app.db.execute(select(orm.Spawner.user_id, orm.Spawner.name)
                          .where(orm.Spawner.server_id.isnot(None))
                          .order_by(orm.Spawner.id)).all()
    if any(user_id not in app.users for user_id, _ in rows):  # not loaded yet: 500 a query
        rows = [(s.user.id, s.name) for s in running_spawners(app.db)]
    labs = []
    async for user_id, server in with_turns(rows, CHUNK):
        user = app.users[user_id]
        spawner = user.spawners[server] if server else user.spawner
        if spawner.ready and not spawner.pending:
            labs.append(_lab_of(spawner, server))
    return labs


# A running server's Lab, made again only when what it is made of changed (a restart with
# another image, on another node): its volumes' names cost a few template renders, and at
# 2,000 labs every pass made them all again (docs/benchmarks.md, section 15).
_made: WeakKeyDictionary[Any, tuple[tuple, Lab]] = WeakKeyDictionary()


def _lab_of(spawner: Any, server: str) -> Lab:
    node = spawner.location.node_title() or ONE_ENGINE
    made_of = (spawner.user.name, spawner.object_name, spawner.image, node, server)
    kept = _made.get(spawner)
    if kept is not None and kept[0] == made_of:
        return kept[1]
    lab = Lab(spawner.user.name, spawner.object_name, lab_volumes(spawner, server),
              spawner.location.locator(), spawner.image, node, server)
    _made[spawner] = (made_of, lab)
    return lab


def lab_volumes(spawner: Any, server: str) -> tuple[UserVolume, ...]:
    """The server's volumes; a named server's own ones keyed `<server>/<key>`, as Manage
    volumes names them: the history then tells its workspace from the default server's, and
    a user's storage is the union of their servers' volumes."""
    own = set(spawner.volume_names.per_server) if server else set()
    return tuple(replace(v, key=f"{server}/{v.key}") if v.key in own else v
                 for v in spawner.owned_volumes())
