"""Owns every change the portal makes to the hub's own routes: which handler classes replace
the hub's (one table), and the gate in front of every route.

There is one mechanism: while the hub builds its route list, each rule's handler class is looked
up in `replacements()` and then wrapped by the host-power gate (portal/views/gate.py), through
`upstream.replace_hub_handlers`. A replacement is found by the class it replaces, not by path,
so it takes the hub's place exactly where the hub (or NativeAuthenticator) routes that class,
and no rule of the hub's is left behind it unreachable. The portal's own pages are routes of
its own (`JupyterHub.extra_handlers`, portal.setup): they add to the hub and replace nothing.
"""

from __future__ import annotations

from typing import Any

from ..platform.upstream import replace_hub_handlers


def replacements() -> dict[type, type]:
    """{hub or NativeAuthenticator handler class: the portal's subclass serving its routes}."""
    from jupyterhub.apihandlers.groups import GroupAPIHandler, GroupUsersAPIHandler
    from jupyterhub.apihandlers.shares import (
        GroupShareAPIHandler,
        ServerShareAPIHandler,
        ServerShareCodeAPIHandler,
        UserShareAPIHandler,
    )
    from jupyterhub.apihandlers.users import (
        UserAPIHandler,
        UserServerAPIHandler,
        UserTokenListAPIHandler,
    )
    from jupyterhub.handlers.pages import AcceptShareHandler, SpawnHandler
    from nativeauthenticator import handlers as native

    from ..auth import handlers as ours
    from .hub_overrides import (
        AuditedGroupShareAPIHandler,
        AuditedGroupUsersAPIHandler,
        AuditedServerShareAPIHandler,
        AuditedUserAPIHandler,
        AuditedUserShareAPIHandler,
        ChoosingServerAPIHandler,
        ProtectedGroupAPIHandler,
        TokensWithoutPasswords,
    )
    from .share_code_overrides import AuditedAcceptShareHandler, AuditedShareCodeAPIHandler
    from .spawn_page import CheckedSpawnHandler

    return {
        # Sign-in, sign-up, approvals (the portal's admin area has them) and passwords.
        native.LoginHandler: ours.LoginHandler,
        native.SignUpHandler: ours.SignUpHandler,
        native.AuthorizationAreaHandler: ours.ToPortalHandler,
        native.ToggleAuthorizationHandler: ours.ToPortalHandler,
        native.DiscardHandler: ours.ToPortalHandler,
        native.ChangePasswordHandler: ours.ChangePasswordHandler,
        native.ChangePasswordAdminHandler: ours.ChangePasswordAdminHandler,
        # The hub's REST API: protected groups, audited changes, no password sign-in for tokens.
        GroupAPIHandler: ProtectedGroupAPIHandler,
        GroupUsersAPIHandler: AuditedGroupUsersAPIHandler,
        UserAPIHandler: AuditedUserAPIHandler,
        UserTokenListAPIHandler: TokensWithoutPasswords,
        UserServerAPIHandler: ChoosingServerAPIHandler,  # the environment checked first
        # Shares made or ended through the REST API are in the event log, like the portal's.
        ServerShareAPIHandler: AuditedServerShareAPIHandler,
        UserShareAPIHandler: AuditedUserShareAPIHandler,
        GroupShareAPIHandler: AuditedGroupShareAPIHandler,
        ServerShareCodeAPIHandler: AuditedShareCodeAPIHandler,  # share codes too, by their id
        AcceptShareHandler: AuditedAcceptShareHandler,  # and the share a code's exchange makes
        # The hub's start page: a new named server checked (name, maximum) before its record.
        SpawnHandler: CheckedSpawnHandler,
    }


def install(app: Any) -> None:
    """Serve every route of the hub `app` is building with its replacement, gated."""
    from .gate import gated

    table = replacements()
    replace_hub_handlers(app, lambda cls: gated(table.get(cls, cls)))
