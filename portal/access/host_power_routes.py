"""Owns the gate's table: every handler class the hub serves, each of its methods, judged.

Deny by default: a handler or method missing here (a JupyterHub upgrade added it) needs sudo
mode from any browser session holding a scope that could grant host power, until it is judged
here; tests/integration/test_gate.py walks every route of the running hub and fails on one this
table does not know. The rules themselves are in portal/access/host_power.py.
"""

from __future__ import annotations

from .host_power import (
    POWER_SCOPES,
    Demand,
    Request,
    Rule,
    account_action,
    approve,
    batch_create,
    bulk,
    create_account,
    dormant_archive,
    group_create,
    group_list_create,
    group_users,
    makes_admin,
    membership,
    nothing,
    proxy,
    service,
    set_password,
    share,
    share_from_portal,
    token,
    two_factor_policy,
    user_patch,
)

UNKNOWN_ROUTE = "not known to DS Hub's gate"


def _reads(*methods: str) -> dict[str, Rule]:
    return dict.fromkeys(methods or ("GET",), nothing)


_JH, _API, _PORTAL = "jupyterhub.handlers.", "jupyterhub.apihandlers.", "portal.views."
_USER = {"GET": nothing, "POST": makes_admin, "PATCH": user_patch, "DELETE": nothing}
_GROUP = {"GET": nothing, "POST": group_create, "DELETE": nothing}
_GROUP_USERS = {"POST": group_users, "DELETE": nothing}
_SHARES = {"GET": nothing, "POST": share, "PATCH": share, "DELETE": nothing}
_SHARE_CODES = {"GET": nothing, "POST": share, "DELETE": nothing}
_CHANGE_OWN = _reads("GET", "POST")  # the handler asks for the old password (passwords.py)
_SERVER = _reads("GET", "POST", "PUT", "PATCH", "DELETE")  # starting and stopping labs

RULES: dict[str, dict[str, Rule]] = {
    # JupyterHub's pages
    **{f"{_JH}{name}": _reads() for name in (
        "base.AddSlashHandler", "base.UserRedirectHandler", "base.PrefixRedirectHandler",
        "pages.RootHandler", "pages.HomeHandler", "pages.AdminHandler",
        "pages.SpawnPendingHandler", "pages.TokenPageHandler", "pages.ProxyErrorHandler",
        "pages.HealthCheckHandler", "login.LogoutHandler", "metrics.MetricsHandler",
        "base.Template404")},
    f"{_JH}base.UserUrlHandler": _reads("GET", "POST", "PATCH", "DELETE"),  # redirects only
    f"{_JH}base.CSPReportHandler": _reads("POST"),
    f"{_JH}pages.SpawnHandler": _reads("GET", "POST"),
    f"{_JH}pages.AcceptShareHandler": _reads("GET", "POST"),  # the code's maker was gated
    f"{_JH}login.LoginHandler": _reads("GET", "POST"),
    # JupyterHub's REST API
    f"{_API}base.API404": _reads("GET", "POST", "PUT", "PATCH", "DELETE"),
    f"{_API}auth.CookieAPIHandler": _reads(),
    f"{_API}auth.TokenAPIHandler": _reads("GET", "POST"),  # POST is a 404 since 2.0
    # Approving an OAuth client hands it at most the scopes its config allows (labs), or what
    # a service was created with (gated above).
    f"{_API}auth.OAuthAuthorizeHandler": _reads("GET", "POST"),
    f"{_API}auth.OAuthTokenHandler": _reads("POST"),
    f"{_API}hub.ShutdownAPIHandler": _reads("POST"),
    f"{_API}hub.RootAPIHandler": _reads(),
    f"{_API}hub.InfoAPIHandler": _reads(),
    f"{_API}proxy.ProxyAPIHandler": {"GET": nothing, "POST": nothing, "PATCH": proxy},
    f"{_API}users.SelfAPIHandler": _reads(),
    f"{_API}users.UserListAPIHandler": {"GET": nothing, "POST": makes_admin},
    f"{_API}users.UserAPIHandler": _USER,
    f"{_API}users.UserServerAPIHandler": _SERVER,
    f"{_API}users.SpawnProgressAPIHandler": _reads(),
    f"{_API}users.UserTokenListAPIHandler": {"GET": nothing, "POST": token},
    f"{_API}users.UserTokenAPIHandler": _reads("GET", "DELETE"),
    f"{_API}users.ActivityAPIHandler": _reads("POST"),
    f"{_API}users.UserAdminAccessAPIHandler": _reads("POST"),  # a no-op since 2.0
    f"{_API}groups.GroupListAPIHandler": {"GET": nothing, "POST": group_list_create},
    f"{_API}groups.GroupAPIHandler": _GROUP,
    f"{_API}groups.GroupUsersAPIHandler": _GROUP_USERS,
    f"{_API}groups.GroupPropertiesAPIHandler": _reads("PUT"),
    f"{_API}services.ServiceListAPIHandler": _reads(),
    f"{_API}services.ServiceAPIHandler": {"GET": nothing, "POST": service,
                                          "DELETE": nothing},
    f"{_API}shares.ServerShareAPIHandler": _SHARES,
    f"{_API}shares.ServerShareCodeAPIHandler": _SHARE_CODES,
    **{f"{_API}shares.{name}": _reads("GET", "DELETE") for name in (
        "UserShareListAPIHandler", "GroupShareListAPIHandler", "UserShareAPIHandler",
        "GroupShareAPIHandler")},
    # Sign-in, sign-up and passwords (portal/auth), the portal's REST overrides
    "portal.auth.handlers.LoginHandler": _reads("GET", "POST"),
    "portal.auth.handlers.SignUpHandler": _reads("GET", "POST"),  # anyone may; pending
    "portal.auth.handlers.ToPortalHandler": _reads(),
    "portal.auth.handlers.ChangePasswordHandler": _CHANGE_OWN,
    "portal.auth.handlers.ChangePasswordAdminHandler": {"GET": nothing, "POST": set_password},
    "nativeauthenticator.handlers.EmailAuthorizationHandler": _reads(),
    "portal.views.hub_overrides.AuditedUserAPIHandler": _USER,
    "portal.views.hub_overrides.ProtectedGroupAPIHandler": _GROUP,
    "portal.views.hub_overrides.AuditedGroupUsersAPIHandler": _GROUP_USERS,
    "portal.views.hub_overrides.TokensWithoutPasswords": {"GET": nothing, "POST": token},
    "portal.views.hub_overrides.ChoosingServerAPIHandler": _SERVER,
    "portal.views.hub_overrides.AuditedServerShareAPIHandler": _SHARES,
    "portal.views.share_code_overrides.AuditedShareCodeAPIHandler": _SHARE_CODES,
    "portal.views.spawn_page.CheckedSpawnHandler": _reads("GET", "POST"),
    "portal.views.share_code_overrides.AuditedAcceptShareHandler": _reads("GET", "POST"),
    **{f"portal.views.hub_overrides.{name}": _reads("GET", "DELETE") for name in (
        "AuditedUserShareAPIHandler", "AuditedGroupShareAPIHandler")},
    # The portal: what grants host power ...
    f"{_PORTAL}admin.CreateUserHandler": {"GET": nothing, "POST": create_account},
    f"{_PORTAL}account.AccountActionHandler": {"POST": account_action},
    f"{_PORTAL}groups.MembershipHandler": {"GET": nothing, "POST": membership},
    f"{_PORTAL}user_table.BulkHandler": {"POST": bulk},
    f"{_PORTAL}signups.SignupDecisionHandler": {"GET": nothing, "POST": approve},
    f"{_PORTAL}two_factor.AccountPolicyHandler": {"GET": nothing, "POST": two_factor_policy},
    f"{_PORTAL}two_factor.AccountPolicyAPI": {"GET": nothing, "PUT": two_factor_policy},
    f"{_PORTAL}batch.BatchConfirmHandler": {"POST": batch_create},
    f"{_PORTAL}shares.SharesHandler": {"GET": nothing, "POST": share_from_portal},
    f"{_PORTAL}shares.NamedSharesHandler": {"GET": nothing, "POST": share_from_portal},
    # ... and what does not: pages, servers, volumes, limits, culling, broadcasts, the audit.
    **{f"{_PORTAL}{name}": _reads() for name in (
        "server.StartLogHandler", "server.RestartConfirmHandler", "server.PortalPageHandler",
        "server.ServerCardHandler", "volumes.VolumesHandler", "admin.AdminPageHandler",
        "admin.DashboardHandler", "admin.AccountsPageHandler",
        "groups.GroupsHandler", "groups.UserSearchHandler", "gpu.GpuSectionHandler",
        "limits.LimitsAPI", "environments.EnvironmentsAPI", "usage.UsageSectionHandler",
        "images.ImagesSectionHandler", "images.ImagesAPI",
        "usage.UsageAPI",
        "usage.UserUsageAPI", "broadcast.BroadcastHistoryHandler",
        "insights.InsightsPageHandler", "insights.InsightsAPI", "insights.MonthlyReportAPI",
        "insights.OwnUsageHandler", "insights.OwnUsageAPI",
        "archive.ArchivedVolumesHandler", "audit.AuditSectionHandler", "audit.AuditAPI",
        "user_table.UserTableHandler", "events.EventStreamHandler", "signups.SignupsHandler",
        "api.ServerStateAPI", "api.VolumesAPI", "static.PortalStaticHandler",
        "logo.InertLogoHandler", "account.AccountPageHandler",
        "two_factor.TwoFactorRequiredPage", "batch.BatchProgressHandler",
        "shares.SharedWithMeHandler", "named_servers.NamedServerCardHandler",
        "named_servers_api.ServersAPI", "named_servers.NamedRestartConfirmHandler",
        "named_servers.NamedStartLogHandler")},
    # dormant accounts: the report, and the automatic disable (it takes power, grants none)
    f"{_PORTAL}dormant.DormantSectionHandler": _reads("GET", "POST"),
    f"{_PORTAL}dormant.DormantArchiveHandler": {"POST": dormant_archive},
    **{f"{_PORTAL}{name}": _reads("POST") for name in (
        "server.ServerActionHandler", "server.KeepRunningHandler",
        "volumes.VolumesResetHandler", "culling.KeepRunningAPI", "api.ServerActionAPI",
        "api.VolumesResetAPI", "api.SudoAPI",  # SudoAPI: the confirmation itself
        "account.AccountPasswordHandler",  # the old password is asked (passwords.py)
        "account.AccountEmailHandler",  # the password is asked too
        # one's own second factor (turning it off and new codes ask for the password)
        "two_factor.TwoFactorStartHandler", "two_factor.TwoFactorConfirmHandler",
        "two_factor.RecoveryCodesHandler", "two_factor.TwoFactorOffHandler",
        # accounts from a CSV: the preview creates nothing; the credentials are read once
        "batch.BatchPreviewHandler", "batch.BatchCredentialsHandler",
        "shares.ShareRevokeHandler", "shares.NamedShareRevokeHandler",  # takes access away
        "named_servers.NamedServerActionHandler", "named_servers.NamedServerDeleteHandler",
        "named_servers.NamedServerKeepRunningHandler", "named_servers_api.NamedServerActionAPI")},
    **{f"{_PORTAL}{name}": _reads("GET", "POST") for name in (
        "limits.LimitsSectionHandler", "environments.EnvironmentsSectionHandler",
        "culling.CullingSectionHandler",
        "broadcast.BroadcastHandler", "broadcast.BroadcastAPI",
        "archive.ArchivedVolumeActionHandler", "account.NewPasswordHandler",
        "two_factor.SignInCodeHandler", "quotas.QuotasSectionHandler",
        "named_servers.ServersHandler")},
    f"{_PORTAL}limits.GroupLimitsAPI": _reads("PUT", "DELETE"),
    f"{_PORTAL}environments.EnvironmentAPI": _reads("PUT", "DELETE"),
    f"{_PORTAL}culling.CullingAPI": _reads("GET", "PUT"),
    f"{_PORTAL}quotas.QuotasAPI": _reads("GET", "PUT"),
    f"{_PORTAL}named_servers_api.NamedServerAPI": _reads("GET", "DELETE"),
}


def demand(request: Request) -> Demand | None:
    """What sudo mode is needed for (None: this request grants no host power)."""
    if request.method in ("HEAD", "OPTIONS"):
        return None
    rule = RULES.get(request.handler, {}).get(request.method)
    if rule is None:
        if not request.scopes.intersection(POWER_SCOPES):
            return None
        return Demand(f"{request.method} on this route ({request.handler}), {UNKNOWN_ROUTE},")
    return rule(request)


def known(handler: str, method: str) -> bool:
    """The gate has judged this handler's method (deny by default covers the rest)."""
    return method in RULES.get(handler, {})
