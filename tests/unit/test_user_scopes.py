"""Every user gets the sharing scopes on both JupyterHub lines, keeping what the configuration
set (portal/compat/user_scopes.py): 6.x through extra_user_scopes, 5.5 through the user role, and
a user role of the configuration's own gets them added on either."""

from __future__ import annotations

from traitlets.config import Config

from portal.compat.user_scopes import EXTRA_USER_SCOPES_DEFINED, add_user_scopes
from portal.servers.sharing import SHARING_SCOPES


def user_scopes(c: Config) -> set[str]:
    """What the hub would give the `user` role from this configuration."""
    hub = c.JupyterHub
    roles = [r for r in hub.get("load_roles", []) if r["name"] == "user"]
    scopes = set(roles[0]["scopes"]) if roles else {"self"}
    if not roles and EXTRA_USER_SCOPES_DEFINED:
        scopes |= set(hub.get("extra_user_scopes", set()))
    return scopes


def test_users_get_the_sharing_scopes_and_keep_self():
    c = Config()
    add_user_scopes(c.JupyterHub, SHARING_SCOPES)
    assert user_scopes(c) == {"self", *SHARING_SCOPES}


def test_an_operators_extra_scopes_and_other_roles_are_kept():
    c = Config()
    c.JupyterHub.load_roles = [{"name": "prometheus", "scopes": ["read:metrics"]}]
    if EXTRA_USER_SCOPES_DEFINED:
        c.JupyterHub.extra_user_scopes = {"access:services"}
    add_user_scopes(c.JupyterHub, SHARING_SCOPES)
    assert {"name": "prometheus", "scopes": ["read:metrics"]} in c.JupyterHub.load_roles
    assert user_scopes(c) >= {"self", *SHARING_SCOPES}
    if EXTRA_USER_SCOPES_DEFINED:
        assert "access:services" in c.JupyterHub.extra_user_scopes


def test_a_configured_user_role_gets_them_added_once():
    c = Config()
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", "read:users:name"]}]
    add_user_scopes(c.JupyterHub, SHARING_SCOPES)
    add_user_scopes(c.JupyterHub, SHARING_SCOPES)
    (role,) = c.JupyterHub.load_roles
    assert sorted(role["scopes"]) == sorted({"self", *SHARING_SCOPES})
    assert "extra_user_scopes" not in c.JupyterHub
