"""Owns which scope each server action needs on the JupyterHub line installed (5.5 or 6.x).

Each action declares its scope on both lines (portal/operations/action_names.py). The line is
told by the hub's own scope table: 6.0 added `start:servers`, and naming it in `needs_scope` on
5.5 raises at import, so only the installed line's scopes are ever handed to `needs_scope`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from jupyterhub.scopes import needs_scope, scope_definitions

from ..operations.action_names import ServerAction

START_SERVERS_DEFINED = "start:servers" in scope_definitions
ACTION_SCOPES: dict[ServerAction, str] = {
    action: action.scope(START_SERVERS_DEFINED) for action in ServerAction
}
START_SERVERS = ACTION_SCOPES[ServerAction.START]  # what a token that may only start holds


def needs_action_scope(method: Callable[..., Any]) -> Callable[..., Any]:
    """`needs_scope` for `method(self, user_name, action)`, with the scope `action` needs.

    The route captures the action's URL segment; `method` receives the `ServerAction`.
    """
    checked = {action: needs_scope(scope)(method) for action, scope in ACTION_SCOPES.items()}

    @functools.wraps(method)
    def wrapper(self: Any, user_name: str, segment: str, *args: Any, **kwargs: Any) -> Any:
        action = ServerAction.from_segment(segment)
        return checked[action](self, user_name, action, *args, **kwargs)

    return wrapper
