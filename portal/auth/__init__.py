"""Owns sign-in and sign-up for DS Hub: NativeAuthenticator made safe to expose.

Kept import-light: the user-name rule (`portal.platform.user_names`) lives below the settings,
which use it, and loads nothing of the hub.
The authenticator itself lives in `portal.auth.authenticator` and is registered by
`portal.auth.configure(c, settings)`, which `portal.setup(c)` calls.
"""

from __future__ import annotations

from typing import Any


def configure(c: Any, settings: Any, audit: Any = None, accounts: Any = None,
              two_factor: Any = None, mail: Any = None) -> None:
    """Use DSHubAuthenticator, and Secure / SameSite=Lax cookies where the public side is HTTPS.

    `audit` (the portal's AuditLog): each account a sign-up creates is recorded in it.
    `accounts` (AccountStates): disabled accounts cannot sign in; a reset one must choose.
    `two_factor` (TwoFactor): an account with it on gives a code after its password.
    `mail` (Mailer): ADMIN_EMAILS hear of each sign-up (queued: a mail server that is down
    never holds a sign-up up).
    """
    c.JupyterHub.authenticator_class = "portal.auth.authenticator.DSHubAuthenticator"
    from jupyterhub import orm

    if accounts is not None:

        def account_state(db: Any, name: str) -> Any:
            user = orm.User.find(db, name)
            return accounts.state(user) if user is not None else None

        c.DSHubAuthenticator.account_state = account_state
    if two_factor is not None:

        def second_factor(db: Any, name: str) -> bool:
            user = orm.User.find(db, name)
            return user is not None and two_factor.enabled(user)

        c.DSHubAuthenticator.second_factor = second_factor
    if audit is not None:
        from ..audit.log import EventKind

        async def record_signup(name: str, detail: str) -> None:
            # The new user is the actor: nobody else was signed in to act.
            await audit.record(name, EventKind.SIGN_UP, name, detail)
            if mail is not None:
                page = f"{settings.subdomain_host}{settings.base_url}hub/portal/admin/signups"
                mail.queue(mail.admins, f"DS Hub: {name} signed up",
                           f"{name} signed up on DS Hub ({detail}).\n\nApprove or reject the "
                           f"sign-up under Portal -> Admin -> Sign-ups: {page}\n",
                           f"sign-up of {name}")

        c.DSHubAuthenticator.signup_recorder = record_signup
    c.DSHubAuthenticator.admin_name = settings.admin
    c.DSHubAuthenticator.setup_code_path = f"{settings.data_dir}/setup-code"
    c.DSHubAuthenticator.max_pending_signups = settings.max_pending_signups
    # Behind compose.yml's Traefik the hub's own proxy is the second hop: the client's address
    # is the entry Traefik wrote into X-Forwarded-For, one before the proxy's.
    c.DSHubAuthenticator.trusted_proxy_hops = 1 if settings.tls_proxy else 0
    # Lax: cookies go with top-level navigation (links into the hub keep working) but not with
    # cross-site subrequests or POSTs. Secure only where browsers reach the hub over HTTPS:
    # behind Traefik the hub sees "http" (its proxy appends its own X-Forwarded-Proto), so
    # JupyterHub's own per-request check would leave the flag off.
    cookies = {"samesite": "Lax"}
    if settings.ssl or settings.tls_proxy:
        cookies["secure"] = True
    hub = c.JupyterHub
    current = hub.get("tornado_settings", {})
    current = current if isinstance(current, dict) else {}
    hub.tornado_settings = {
        **current,
        "cookie_options": {**current.get("cookie_options", {}), **cookies},
        # JupyterHub copies cookie_options into the XSRF cookie's only when this is empty.
        "xsrf_cookie_kwargs": {**current.get("xsrf_cookie_kwargs", {}), **cookies},
    }
