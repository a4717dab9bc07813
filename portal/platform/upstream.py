"""Owns every read of JupyterHub's private attributes, in one place to re-check on upgrades.

Checked against JupyterHub 5.5.4 and 6.1 (spawner.py, app.py): `Spawner._failed`,
`Spawner._spawn_future`, `Spawner._spawn_pending`, `JupyterHub.tornado_application` and the
sub-command flags of the app, `BaseHandler._token_authenticated` and `_jupyterhub_user`, and
the hub's `handlers` list (rewritten before the web application is made). Everything else in
the portal uses public hub API. Also here: the hub's own values of `Spawner.pending` (`spawn`,
`stop`), kept apart from the portal's action names (portal/operations/action_names.py) that
happen to share a word, and the `HubUser` / `HubSpawner` protocols: the parts of the hub's User and
Spawner the portal reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

# Flags JupyterHub sets when the configuration is loaded for something other than serving.
_NOT_SERVING_FLAGS = ("subapp", "generate_config", "generate_certs", "show_config",
                      "show_config_json")


class HubGroup(Protocol):
    name: str


class HubServer(Protocol):
    url: str  # where the proxy reaches the server


class HubOrmSpawner(Protocol):
    started: datetime | None  # naive UTC, as the hub stores them
    last_activity: datetime | None


class HubSpawner(Protocol):
    """The hub's Spawner (public API) as the portal reads it; its private flags are read by the
    functions below. The portal's own spawner (portal/lab/spawner.py) adds its lab methods."""

    user: HubUser
    db: Session
    orm_spawner: HubOrmSpawner
    server: HubServer | None

    @property
    def pending(self) -> str | None: ...  # HUB_PENDING_SPAWN, HUB_PENDING_STOP or None

    @property
    def active(self) -> bool: ...

    @property
    def ready(self) -> bool: ...


class HubUser(Protocol):
    """The hub's User (`jupyterhub.user.User`) as the portal reads it."""

    name: str
    id: int
    url: str  # the default server's URL: a path, or absolute with subdomains
    admin: bool
    groups: list[HubGroup]
    spawners: Mapping[str, HubSpawner]

    @property
    def spawner(self) -> HubSpawner: ...  # the default server's

    async def stop(self, server_name: str = "") -> None: ...

    def server_url(self, server_name: str = "") -> str: ...  # a server's URL, named or not
    # The hub's records of the user's servers (name -> orm.Spawner), stopped ones included.
    orm_spawners: Mapping[str, Any]


def server_record(user: HubUser, server_name: str) -> HubSpawner:
    """The named server's spawner, its record created if new: 6.x asks `get_or_create_spawner`
    (its `spawners[name]` needs the record), 5.5's `spawners[name]` creates it."""
    create = getattr(user, "get_or_create_spawner", None)
    return create(server_name, server_name) if create else user.spawners[server_name]


async def remove_server_record(user: HubUser, server_name: str, db: Any) -> None:
    """Delete a stopped named server as the hub's REST DELETE with "remove" does (5.5, 6.1):
    the spawner's `delete_forever` (through the hub's own step), then its record."""
    spawner = user.spawners[server_name]
    await user._delete_spawner(spawner)  # type: ignore[attr-defined]
    db.delete(spawner.orm_spawner)
    user.spawners.pop(server_name, None)  # type: ignore[attr-defined]
    db.commit()


def spawn_failed(spawner: HubSpawner) -> bool:
    """The last spawn of this server ended with an exception (and nothing runs now)."""
    return bool(getattr(spawner, "_failed", False))


def spawn_error(spawner: HubSpawner) -> BaseException | None:
    """The exception the last spawn ended with, if it failed."""
    future = getattr(spawner, "_spawn_future", None)
    if future is None or not future.done() or future.cancelled():
        return None
    return future.exception()


# JupyterHub's own values of the public `Spawner.pending` (not the portal's action names).
HUB_PENDING_SPAWN, HUB_PENDING_STOP = "spawn", "stop"


def hub_spawning(spawner: HubSpawner) -> bool:
    """The hub is starting this server (`Spawner.pending`)."""
    return spawner.pending == HUB_PENDING_SPAWN


def hub_stopping(spawner: HubSpawner) -> bool:
    """The hub is stopping this server (`Spawner.pending`)."""
    return spawner.pending == HUB_PENDING_STOP


def take_poll_callbacks(spawner: Any) -> list[Callable[[], Any]]:
    """What a spawner's poll runs when it finds the server gone, taken from it as JupyterHub's
    own `poll_and_notify` does (`Spawner._callbacks`)."""
    spawner._callbacks, callbacks = [], spawner._callbacks
    return callbacks


def spawn_pending(spawner: HubSpawner) -> bool:
    """The hub is inside this spawner's start (its progress API streams while this holds)."""
    return bool(getattr(spawner, "_spawn_pending", False))


def serving_hub() -> Any | None:
    """The JupyterHub app when this configuration load is a hub starting to serve, else None.

    JupyterHub loads its config file inside its running event loop (`initialize` is async), so
    no loop means a plain import (tests, tools). With a loop, the singleton app tells a real
    start from `--show-config`, `--generate-certs` and sub-commands such as `jupyterhub token`.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    from jupyterhub.app import JupyterHub

    if not JupyterHub.initialized():
        return None
    app = JupyterHub.instance()
    if any(getattr(app, flag, None) for flag in _NOT_SERVING_FLAGS):
        return None
    return app


def web_app_ready(app: Any) -> bool:
    """The hub made its web application, the last step of `initialize()`: database, users and
    groups are loaded by then."""
    return getattr(app, "tornado_application", None) is not None


def loaded_user(users: dict[int, HubUser], user_id: int) -> HubUser | None:
    """The hub's User for `user_id` if the hub already holds it in memory, without loading it.

    JupyterHub's UserDict is a dict keyed by user id whose `[]` loads missing users; plain
    `dict.get` reads only what is there (a table of 5,000 users must not build 5,000 Users).
    """
    return dict.get(users, user_id)


def users_named(users: Any, names: list[str]) -> dict[str, HubUser]:
    """The hub's Users for `names`: those it holds found in one pass over memory, only the rest
    loaded. `users[name]` queries per name, with the selectin loads of groups, roles and shares:
    a culling pass's 2,000 held the loop for 12-15 s at a time (benchmarks/hub_scale.py)."""
    wanted = set(names)
    found = {u.name: u for u in dict.values(users) if u.name in wanted}
    for name in wanted - found.keys():
        found[name] = users[name]
    return found


def hub_logo_file() -> str:
    """The logo file the running hub serves (`JupyterHub.logo_file`, its default included)."""
    from jupyterhub.app import JupyterHub

    return JupyterHub.instance().logo_file
def token_authenticated(handler: Any) -> bool:
    """The request was authenticated by an API token (not a browser's cookie)."""
    return bool(getattr(handler, "_token_authenticated", False))


def found_no_session(handler: Any) -> bool:
    """The hub already looked for this request's user and found none (it caches the answer in
    `BaseHandler._jupyterhub_user`; absent until it has looked)."""
    return hasattr(handler, "_jupyterhub_user") and handler._jupyterhub_user is None


def signed_in_now(handler: Any, user: Any) -> None:
    """Make `user` this request's user from here on (the sign-in that just set its cookie)."""
    handler._jupyterhub_user = user


def set_hub_cookie(handler: Any, name: str, value: str, path: str) -> None:
    """A signed cookie with the hub's flags (HttpOnly, SameSite, Secure where it applies)."""
    handler._set_cookie(name, value, encrypted=True, path=path)


def replace_hub_handlers(app: Any, replace: Callable[[type], type]) -> None:
    """Serve the hub's own routes with `replace(handler class)`: our subclasses of its handlers.

    `init_handlers` builds `app.handlers` and `init_tornado_application` serves it right after;
    observing the list swaps the classes in between, so no request ever meets the originals
    (tornado takes the first matching route, so appended handlers could not do this).
    `replace` must return a class it was given back unchanged (the swap sees its own result).
    """

    def swap(change: dict[str, Any]) -> None:
        rules = change["new"]
        swapped = [(r[0], replace(r[1]), *r[2:]) for r in rules]
        if any(a[1] is not b[1] for a, b in zip(rules, swapped, strict=True)):
            app.handlers = swapped

    app.observe(swap, names="handlers")


def route_first(app: Any, matcher: Any, handler: type, kwargs: dict[str, Any]) -> None:
    """Put one route ahead of every route of the hub's running web application.

    Tornado's application router tries its rules in order and falls through when a rule's
    matcher declines, so only what `matcher` accepts is taken from the hub.
    """
    from tornado.routing import Rule

    app.tornado_application.default_router.rules.insert(0, Rule(matcher, handler, kwargs))
