"""Owns which scope each server action needs, on JupyterHub 5.5 and 6.x alike.

JupyterHub 6.0 added `start:servers` (start, but neither access nor stop) as a subscope of
`servers`; 5.5 has no such scope, and naming it in `needs_scope` there raises at import. Start
therefore needs `start:servers` on 6.x and `servers` on 5.5; stop needs `delete:servers` (what
the hub's own stop API needs on both); restart and recreate stop and start, so they need
`servers`. Users hold all of these for their own server; admins for everyone's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from jupyterhub.scopes import needs_scope, scope_definitions

START_SERVERS = "start:servers" if "start:servers" in scope_definitions else "servers"
ACTION_SCOPES = {
    "start": START_SERVERS,
    "stop": "delete:servers",
    "restart": "servers",
    "recreate": "servers",
}


def needs_action_scope(method: Callable[..., Any]) -> Callable[..., Any]:
    """`needs_scope` for `method(self, user_name, action)`, with the scope `action` needs."""
    checked = {action: needs_scope(scope)(method) for action, scope in ACTION_SCOPES.items()}

    @functools.wraps(method)
    def wrapper(self: Any, user_name: str, action: str, *args: Any, **kwargs: Any) -> Any:
        return checked[action](self, user_name, action, *args, **kwargs)

    return wrapper
