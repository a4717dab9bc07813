"""Owns the server actions' names and what each one carries: its scopes, event kind, URL segment.

Routes, scope checks, the dispatch (portal/servers/actions.py), the JSON API, bulk actions, the
card's buttons and outcomes all take them from here. A StrEnum: URLs, JSON, forms, templates and
the event log keep the plain strings (`start`, `stop`, `restart`, `recreate`, `update`).

Scopes differ between JupyterHub lines. 6.0 added `start:servers` (start, but neither access
nor stop) as a subscope of `servers`; 5.5 has no such scope, so start needs `servers` there.
Stop needs `delete:servers` (what the hub's own stop API needs on both); restart, recreate and
update stop and start, so they need `servers`. Users hold all of these for their own server; admins
for everyone's. portal/compat/scopes.py picks the line the hub runs.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ..audit.log import EventKind
from ..platform.errors import ActionRefused


class ServerAction(StrEnum):
    """One action on a user's default server; each member's line holds all it carries."""

    # name, event kind, scope where the hub defines start:servers (6.x), scope where not (5.5)
    START = "start", EventKind.START, "start:servers", "servers"
    STOP = "stop", EventKind.STOP, "delete:servers", "delete:servers"
    RESTART = "restart", EventKind.RESTART, "servers", "servers"
    RECREATE = "recreate", EventKind.RECREATE, "servers", "servers"
    # Re-create to update: only when the tag names a newer image than the container runs.
    UPDATE = "update", EventKind.IMAGE_UPDATE, "servers", "servers"

    event: EventKind
    _scope_6: str
    _scope_5: str

    def __new__(cls, name: str, event: EventKind, scope_6: str, scope_5: str) -> ServerAction:
        member = str.__new__(cls, name)
        member._value_ = name
        member.event = event  # what the event log calls it ("re-create" for recreate)
        member._scope_6, member._scope_5 = scope_6, scope_5
        return member

    def scope(self, start_servers: bool) -> str:
        """The scope this action needs; `start_servers`: the hub defines `start:servers`
        (JupyterHub 6.0 and later)."""
        return self._scope_6 if start_servers else self._scope_5

    @property
    def takes_user_options(self) -> bool:
        """Start and re-create start a lab: they take user options (the environment)."""
        return self in (ServerAction.START, ServerAction.RECREATE)

    @property
    def segment(self) -> str:
        """Its last segment in the portal's and the JSON API's URLs: the name itself."""
        return self.value

    @classmethod
    def from_segment(cls, segment: str) -> ServerAction:
        """The action a URL names; 400 for any other segment (the routes only let ours in)."""
        for action in cls:
            if action.segment == segment:
                return action
        raise ActionRefused(f"Unknown action: {segment[:40]}", 400)

    @classmethod
    def route_group(cls) -> str:
        """The URL pattern group capturing any action's segment: `(start|stop|...)`."""
        return "(" + "|".join(re.escape(action.segment) for action in cls) + ")"
