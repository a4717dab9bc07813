"""Owns adding scopes to every user's role, the same way on JupyterHub 5.5 and 6.x.

6.0 added `JupyterHub.extra_user_scopes`, which adds to the default `user` role; 5.5 only knows
redefining that role in `load_roles` (which 6.x then prefers, ignoring `extra_user_scopes`). So:
a `user` role the configuration already defines gets the scopes added to it; otherwise 6.x takes
them as extra user scopes (an operator's own extras stay), and 5.5 gets a `user` role of "self"
and them. Goes with 5.5: keep the `extra_user_scopes` branch only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jupyterhub.app import JupyterHub

EXTRA_USER_SCOPES_DEFINED = "extra_user_scopes" in JupyterHub.class_trait_names()


def _configured(hub: Any, name: str) -> list[Any]:
    """A list or set the configuration set (traitlets answers unset ones with a lazy stub)."""
    value = hub.get(name, [])
    return list(value) if isinstance(value, (list, set, tuple, frozenset)) else []


def add_user_scopes(hub: Any, scopes: Iterable[str]) -> None:
    """Give every user `scopes` on `hub` (the configuration's `c.JupyterHub`), keeping the roles
    and extra user scopes the configuration set before."""
    wanted, load_roles = list(scopes), _configured(hub, "load_roles")
    for role in load_roles:
        if role.get("name") == "user" and "scopes" in role:
            role["scopes"] = [*role["scopes"], *(s for s in wanted if s not in role["scopes"])]
            hub.load_roles = load_roles
            return
    if EXTRA_USER_SCOPES_DEFINED:
        hub.extra_user_scopes = {*_configured(hub, "extra_user_scopes"), *wanted}
        return
    hub.load_roles = [*load_roles, {"name": "user", "scopes": ["self", *wanted]}]
