"""Owns actions on many users at once: the selection, and one result per user, never silent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..access import groups as access_groups
from ..lab.server_names import named_oldest_first
from ..operations.action_names import ServerAction
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser
from ..runtime import Runtime
from ..servers.actions import HubActions, act
from .account_actions import perform

MAX_SELECTION = 5000
# The server actions offered for many users, as the table's menu words them.
SERVER_ACTIONS = {ServerAction.STOP: "Stop their servers",
                  ServerAction.RESTART: "Restart their servers"}
GROUP_ACTIONS = {"group-add": True, "group-remove": False}
# Account actions (admin/account_actions.py), as the menu words them; they need admin:users.
ACCOUNT_ACTIONS = {"reset-password": "Reset their passwords…",
                   "disable": "Disable their accounts", "enable": "Enable their accounts",
                   "clear-2fa": "Clear their two-factor sign-in"}
ACTIONS = (*SERVER_ACTIONS, *GROUP_ACTIONS, "broadcast", *ACCOUNT_ACTIONS)


@dataclass(frozen=True)
class Result:
    user: str
    ok: bool
    message: str
    server: str = ""  # a server action's named server ("": the default one, or no server)


def check_selection(names: list[str], matching: list[str] | None, expected: str) -> list[str]:
    """The users to act on: the ticked ones, or all matching the filter when the admin saw
    exactly that many (a changed selection is refused, not applied)."""
    if matching is not None:
        if str(len(matching)) != expected.strip():
            raise ActionRefused(f"{len(matching)} users match the filters now, not {expected}; "
                                "look at the table again and confirm.", 409)
        names = matching
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise ActionRefused("Select at least one user.", 400)
    if len(names) > MAX_SELECTION:
        raise ActionRefused(f"At most {MAX_SELECTION} users at once.", 400)
    return names


async def run_bulk(action: str, names: list[str], *, runtime: Runtime, hub: HubActions,
                   db: Any, find_user: Callable[[str], HubUser | None], group: str = "",
                   broadcast: Callable[[list[str]], Awaitable[list[Result]]] | None = None,
                   hub_for: Callable[[str], HubActions],
                   authenticator: Any = None) -> list[Result]:
    """Run `action` for each user; every user gets a result line, refusals included (a server
    action: a line per running server, named ones included).

    `authenticator`: given when the admin may act on accounts (admin:users), else None.
    `hub_for(server)`: the hub's start and stop of that server ("": the default one)."""
    if action not in ACTIONS:
        raise ActionRefused(f"Unknown bulk action {action[:30]!r}.", 400)
    if action in ACCOUNT_ACTIONS and authenticator is None:
        raise ActionRefused("Resetting, disabling, enabling accounts and clearing their "
                            "two-factor sign-in needs the admin:users permission.", 403)
    if action in GROUP_ACTIONS:
        done = await access_groups.change_memberships(
            db, runtime.group_guard, hub.actor, group, names, add=GROUP_ACTIONS[action])
        return [Result(n, what != access_groups.NO_SUCH_USER, what) for n, what in done.items()]
    if action == "broadcast":
        if broadcast is None:
            raise ActionRefused("Broadcast is not set up on this hub.", 503)
        return await broadcast(names)
    if action in SERVER_ACTIONS:
        return await each_server(ServerAction(action), names, find_user, runtime, hub_for)

    async def one(user: HubUser) -> str:
        done = await perform(action, user, authenticator=authenticator, db=db,
                             runtime=runtime, hub=hub)
        if done.passphrase:
            return f"temporary password {done.passphrase} (shown only this once)"
        return done.notice

    return await each_account(names, find_user, one)


def running_servers(user: HubUser) -> list[str]:
    """The user's servers the hub holds running or pending, the default one first, then the
    named ones oldest first; none: the default one (its action says it is not running)."""
    named = [name for name in named_oldest_first(user)
             if (spawner := user.spawners.get(name)) is not None and spawner.active]
    default = user.spawners.get("")
    return ["", *named] if not named or (default is not None and default.active) else named


async def each_server(action: ServerAction, names: list[str],
                      find_user: Callable[[str], HubUser | None], runtime: Runtime,
                      hub_for: Callable[[str], HubActions]) -> list[Result]:
    """`action` on every running server of each named user, a result line per server (its
    refusal included), each recorded with the server's name by `act`."""
    async def requested(user: HubUser, server: str) -> str:
        await act(action, user, runtime, hub_for(server))
        return f"{action} requested"

    async def servers(name: str, user: HubUser) -> list[Result]:
        return [await _attempt(name, requested(user, server), server)
                for server in running_servers(user)]

    return await _per_user(names, find_user, servers)


async def each_account(names: list[str], find_user: Callable[[str], Any],
                       one: Callable[[Any], Awaitable[str]]) -> list[Result]:
    """`one(user)` for each named account in turn: a result line each, a refusal or an unknown
    name included, so one account never stops the others."""
    async def line(name: str, user: Any) -> list[Result]:
        return [await _attempt(name, one(user))]

    return await _per_user(names, find_user, line)


async def _per_user(names: list[str], find_user: Callable[[str], Any],
                    lines: Callable[[str, Any], Awaitable[list[Result]]]) -> list[Result]:
    results = []
    for name in names:
        user = find_user(name)
        results.extend([Result(name, False, "no such user")] if user is None
                       else await lines(name, user))
    return results


async def _attempt(name: str, work: Awaitable[str], server: str = "") -> Result:
    """The line of one piece of work: what it says it did, or its refusal."""
    try:
        return Result(name, True, await work, server)
    except ActionRefused as refused:
        return Result(name, False, refused.message, server)
