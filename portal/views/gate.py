"""Owns enforcing the host-power gate on every route the hub serves, before its handler runs.

`gated(cls)` subclasses a hub handler class (JupyterHub's own, NativeAuthenticator's, the
portal's) so that, once the hub has identified the request in `prepare`, a browser session's
request that grants host power (portal/access/host_power_routes.py) needs sudo mode: a 403 naming
`POST /hub/portal/api/sudo`, or the portal's password dialog for its htmx forms, which send the
password with the action. Requests with an API token pass: a token is a credential of its own,
and minting one from a session is itself gated. `upstream.replace_hub_handlers` puts the
subclasses on the hub's routes before the web application is made.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jupyterhub import orm
from jupyterhub.handlers import BaseHandler
from jupyterhub.utils import url_path_join
from tornado.web import RequestHandler

from ..access.host_power import Request
from ..access.host_power_routes import demand
from ..access.names import BUILTIN_GROUPS
from ..auth.account_states import NEW_PASSWORD_PATH, AccountState
from ..auth.two_factor import SET_UP_PATH, TwoFactor
from ..auth.two_factor_flow import must_set_up
from ..platform.errors import ActionRefused
from ..platform.upstream import token_authenticated
from .refusals import as_http_error

GATED_FROM = "dshub_gated_class"  # the class a gated subclass was made from


def class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def holds_power(db: Any, name: str) -> bool:
    """`name` is an admin or in a Docker-access group (its lab, tokens and password reach the
    host)."""
    user = orm.User.find(db, name)
    return user is not None and (bool(user.admin) or any(
        group.name in BUILTIN_GROUPS for group in user.groups))


def request_body(handler: Any) -> dict[str, Any]:
    """The JSON object of an API request, or the form's fields (first values); {} otherwise."""
    request = handler.request
    if request.headers.get("Content-Type", "").startswith("application/json") or (
            request.body and request.body[:1] in (b"{", b"[")):
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}  # the handler answers a bad body with its usual 400
        return body if isinstance(body, dict) else {}
    return {name: values[0].decode(errors="replace")
            for name, values in request.body_arguments.items() if values}


# What an account that must choose a new password may still reach (the page that chooses it,
# signing in and out, the portal's scripts and styles, the logo in the page's header).
CHOOSING_ALLOWED = frozenset({
    "portal.views.account.NewPasswordHandler", "portal.views.static.PortalStaticHandler",
    "portal.views.logo.InertLogoHandler", "portal.auth.handlers.LoginHandler",
    "jupyterhub.handlers.login.LogoutHandler", "jupyterhub.handlers.base.Template404"})


# What an account that must set up two-factor sign-in first may still reach.
SETTING_UP_ALLOWED = CHOOSING_ALLOWED - {"portal.views.account.NewPasswordHandler"} | {
    f"portal.views.two_factor.{name}" for name in (
        "TwoFactorRequiredPage", "TwoFactorStartHandler", "TwoFactorConfirmHandler")}


def _only(handler: Any, page: str, refusal: str) -> None:
    """Send GET pages to `page` (under the hub), refuse everything else with `refusal`."""
    url = url_path_join(handler.hub.base_url, page)
    if handler.request.method == "GET" and "/api/" not in handler.request.path:
        handler.redirect(url)
        return
    raise as_http_error(ActionRefused(refusal.format(page=url), 403))


async def account_state_allows(handler: Any, original: type) -> None:
    """A disabled account reaches nothing, whatever credential it shows (a cookie or token made
    before it was disabled); one whose password an admin reset reaches only the page choosing
    a new one (GET pages are sent there); a browser session of an account that holds host power
    without the second factor admins require reaches only the page setting it up."""
    user = handler.current_user
    if user is None or getattr(user, "kind", "user") != "user":
        return
    runtime = handler.settings["dshub_portal"]
    accounts = runtime.accounts
    if not accounts.loaded:
        await accounts.load()
    state = accounts.state(user)
    if state is None:
        await _second_factor_allows(handler, original, runtime.two_factor, user)
        return
    if class_name(original) in CHOOSING_ALLOWED:
        return
    if state == AccountState.DISABLED:
        raise as_http_error(ActionRefused(f"The account {user.name} is disabled. Ask an admin "
                                          "to enable it.", 403))
    _only(handler, NEW_PASSWORD_PATH,
          "An admin set your password (a reset or a new account): choose a new one at "
          "{page} before anything else.")


async def _second_factor_allows(handler: Any, original: type, two_factor: TwoFactor,
                                user: Any) -> None:
    """API tokens pass: they are credentials of their own (disable an account to end them)."""
    await two_factor.ensure_loaded()
    if not two_factor.required_for_host_power or token_authenticated(handler) or (
            class_name(original) in SETTING_UP_ALLOWED):
        return
    if must_set_up(two_factor, user, lambda name: holds_power(handler.db, name)):
        _only(handler, SET_UP_PATH, "Admins require two-factor sign-in for your account: set it "
              "up at {page} before anything else.")


async def enforce(handler: Any, original: type) -> None:
    """Raise the refusal (an HTTPError) when this request needs sudo mode and has none, or the
    account's state forbids it (disabled, or a password to choose)."""
    await account_state_allows(handler, original)
    user = handler.current_user
    if handler._finished or user is None or token_authenticated(handler) or getattr(
            user, "kind", "user") != "user":
        return
    method = handler.request.method.lower()
    if getattr(original, method, None) is getattr(RequestHandler, method, None):
        return  # a method this route does not serve does nothing: tornado answers 405
    body = request_body(handler)
    scopes = frozenset(getattr(handler, "parsed_scopes", None) or ())
    needed = demand(Request(
        handler=class_name(original), method=handler.request.method,
        args=tuple(handler.path_args or ()), body=body, user=user.name, scopes=scopes,
        holds_power=lambda name: holds_power(handler.db, name)))
    if needed is None:
        return
    password = body.get(needed.password_field) if needed.password_field else None
    runtime = handler.settings["dshub_portal"]
    auth = handler.authenticator

    async def check(name: str, given: str) -> bool:
        return await auth.check_account_password(handler, name, given)

    try:
        await runtime.sudo.require(user.name, handler.get_session_cookie(), needed.what,
                                   password if isinstance(password, str) else None, check)
    except ActionRefused as refused:
        raise as_http_error(refused) from None


@cache
def gated(cls: type) -> type:
    """`cls` with the gate in front of its methods (the same class for anything but a hub
    handler, and for a class already gated)."""
    if not isinstance(cls, type) or not issubclass(cls, BaseHandler) or GATED_FROM in vars(cls):
        return cls

    async def prepare(self: Any) -> None:
        await super(subclass, self).prepare()
        if not self._finished:
            await enforce(self, cls)

    subclass = type(cls.__name__, (cls,), {"prepare": prepare, GATED_FROM: cls,
                                           "__module__": cls.__module__,
                                           "__qualname__": cls.__qualname__})
    return subclass
