"""Owns the rules for a user's named servers: which names are valid, and how many may exist.

Names follow JupyterHub 6's rule for new servers (`jupyterhub.slugs.is_valid_safe_slug`: 1 to 30
characters, lowercase ASCII letters, digits and single hyphens, starting with a letter and
ending with a letter or digit); JupyterHub 5.5 checks no rule, so the portal applies this one on
both lines. Docker names put `--` between the escaped user name and the escaped server name
(spawner.py): escaping turns every `-` of a user name into `-2d`, so no escaped user name holds
`--`, and no user's default container or volume can take a named server's name.

The maximum (NAMED_SERVERS_MAX, a group's own) counts named servers, never the default one. A
server beyond it is not created; a server created before the maximum was lowered keeps its
record, but only the first `maximum` (oldest first) may start.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

from ..platform.errors import ActionRefused

MAX_LENGTH = 30
# Set while one named server is deleted (the portal's Delete, the hub's REST DELETE with
# "remove"): its own volumes go. Unset, the hub is deleting the whole account, whose default
# server's hook disposes of every volume, named servers' included (volumes/account_volumes.py).
deleting_server: ContextVar[bool] = ContextVar("dshub_deleting_server", default=False)
_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def name_refusal(name: str) -> str | None:
    """Why `name` cannot be a new server's name, or None."""
    if _SLUG.match(name) and len(name) <= MAX_LENGTH:
        return None
    shown = name[:40].encode("ascii", "backslashreplace").decode()
    return (f"{shown!r} is not a valid server name: use 1 to {MAX_LENGTH} lowercase letters, "
            "digits and single hyphens, starting with a letter and ending with a letter or "
            "digit (e.g. gpu-2).")


def check_creation(user_name: str, named: list[str], name: str, maximum: int) -> None:
    """Refuse (400: a bad name, 409: over the maximum) adding the server `name` to `user_name`
    (`named`: their named servers); an existing server passes (starting it is no creation)."""
    if name in named:
        return
    if (refusal := name_refusal(name)) is not None:
        raise ActionRefused(refusal, 400)
    if maximum == 0:
        raise ActionRefused(f"{user_name} may have no named servers, only the default one: an "
                            "admin can raise the maximum for one of their groups "
                            "(Admin -> Limits).", 409)
    if len(named) >= maximum:
        raise ActionRefused(f"{user_name} already has {len(named)} named server"
                            f"{'' if len(named) == 1 else 's'}, the maximum of {maximum}: "
                            "delete one before adding another.", 409)


def start_refusal(user_name: str, named_oldest_first: list[str], name: str,
                  maximum: int) -> str | None:
    """Why the named server `name` may not start: it lies beyond the maximum (lowered since)."""
    if not name or name in named_oldest_first[:maximum]:
        return None
    return (f"{user_name}'s server {name!r} is beyond the maximum of {maximum} named "
            f"server{'' if maximum == 1 else 's'}: delete it, or ask an admin to raise it.")


def oauth_client_id(given: str, user: Any, server_name: str) -> str:
    """A named server's OAuth client id, unlike any other server's. JupyterHub (5.5, 6.1) gives
    bob's server x `jupyterhub-user-bob-x`, the id of user bob-x's default server: starting the
    second rewrote the first's client (secret, redirect) and failed with a 500. The server's
    length first keeps every (user, server) pair apart; default servers keep the hub's `given`."""
    if not server_name:
        return given
    return f"jupyterhub-server-{len(server_name)}-{server_name}-{quote(user.name)}"


def name_named_server(spawner: Any) -> None:
    """A named server's own OAuth client id and container name: a configured `name_template`
    without {servername} (written for default servers only) would give it the default
    server's container (which its start would remove as left over), so `--{servername}` is
    added to it. The name is rendered again (by the spawner's own rule: Swarm's is shorter): a
    configured image already rendered it."""
    if spawner.name:
        spawner.oauth_client_id = oauth_client_id(spawner.oauth_client_id, spawner.user,
                                                  spawner.name)
        if "{servername}" not in spawner.name_template:
            spawner.name_template = f"{spawner.name_template}--{{servername}}"
            spawner.object_name = spawner._object_name_default()


def named_oldest_first(user: Any) -> list[str]:
    """The user's named servers as the hub records them, oldest first."""
    named = [(record.id, name) for name, record in user.orm_spawners.items() if name]
    return [name for _, name in sorted(named)]


async def check_start(spawner: Any, groups: set[str]) -> None:
    """The spawner's own check, whoever asked for the start: a named server with a name outside
    the rule (JupyterHub 5.5's own pages check none: `X` and `x` would share a container) or
    beyond the maximum (or while the maximum is 0) never starts."""
    if spawner.name and (refusal := name_refusal(spawner.name)):
        raise RuntimeError(refusal)
    if spawner.name and spawner.server_maximum is not None:
        maximum = await spawner.server_maximum(groups)
        if refusal := start_refusal(spawner.user.name, named_oldest_first(spawner.user),
                                    spawner.name, maximum):
            raise RuntimeError(refusal)
