"""Owns actions on many users at once: the selection, and one result per user, never silent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..access import groups as access_groups
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
                   authenticator: Any = None) -> list[Result]:
    """Run `action` for each user; every user gets a result line, refusals included.

    `authenticator`: given when the admin may act on accounts (admin:users), else None."""
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


    async def one(user: HubUser) -> str:
        if action in ACCOUNT_ACTIONS:
            done = await perform(action, user, authenticator=authenticator, db=db,
                                 runtime=runtime, hub=hub)
            if done.passphrase:
                return f"temporary password {done.passphrase} (shown only this once)"
            return done.notice
        await act(ServerAction(action), user, runtime, hub)  # one of SERVER_ACTIONS
        return f"{action} requested"

    return await each_account(names, find_user, one)


async def each_account(names: list[str], find_user: Callable[[str], Any],
                       one: Callable[[Any], Awaitable[str]]) -> list[Result]:
    """`one(user)` for each named account in turn: a result line each, a refusal or an unknown
    name included, so one account never stops the others."""
    results = []
    for name in names:
        user = find_user(name)
        if user is None:
            results.append(Result(name, False, "no such user"))
            continue
        try:
            results.append(Result(name, True, await one(user)))
        except ActionRefused as refused:
            results.append(Result(name, False, refused.message))
    return results
