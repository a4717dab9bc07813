"""Owns what every portal handler shares: the runtime, the target user, htmx helpers, errors."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from http.client import responses
from typing import Any
from urllib.parse import urlencode

from jupyterhub.handlers import BaseHandler
from jupyterhub.user import User
from jupyterhub.utils import url_path_join
from tornado import web

from ..governance.image_updates import short_id
from ..governance.limits import human_size
from ..operations.action_names import ServerAction
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser, found_no_session
from ..runtime import Runtime
from ..servers.actions import HubActions
from ..servers.named import existing_server
from ..servers.readiness import loopback_url
from .refusals import RefusalResponses

DEFAULT_ERROR_TARGET = "#portal-flash"


class PortalCommon:
    """Shared by pages, fragments and the JSON API (mixed into hub handler classes)."""

    @property
    def runtime(self) -> Runtime:
        return self.settings["dshub_portal"]  # type: ignore[attr-defined]

    def target_user(self, user_name: str) -> HubUser:
        """The hub's User named in the URL; 404 when there is none (scopes were checked)."""
        current = self.current_user  # type: ignore[attr-defined]
        if isinstance(current, User) and current.name == user_name:
            # One's own card (what every open portal page polls): the hub already loaded this
            # user for the request; find_user would query the database again (benchmarks).
            return current
        user = self.find_user(user_name)  # type: ignore[attr-defined]
        if user is None:
            raise ActionRefused(f"No such user: {user_name[:80]}", 404)
        return user

    def target_server(self, user_name: str, server_name: str) -> tuple[HubUser, str]:
        """The user and their named server the URL names; 404 with a sentence for either."""
        user = self.target_user(user_name)
        return user, existing_server(user, server_name)

    def hub_actions(self, options: dict[str, Any] | None = None,
                    server: str = "") -> HubActions:
        """The hub's own start/stop of one server (`server`: a named one) for the service layer,
        and where the proxy answers; a start with `options` (user options: the environment)
        hands them to the hub."""
        spawn = functools.partial(self.spawn_single_user,  # type: ignore[attr-defined]
                                  server_name=server)
        return HubActions(
            spawn=spawn if options is None else functools.partial(spawn, options=options),
            stop=functools.partial(self.stop_single_user,  # type: ignore[attr-defined]
                                   server_name=server),
            public_url=loopback_url(self.proxy.public_url),  # type: ignore[attr-defined]
            actor=self.actor_name,
            options=options,
            server=server,
        )

    async def check_own_password(self, name: str, given: str) -> bool:
        """`name`'s password, checked through the sign-in's throttle (raises its 429)."""
        auth = self.authenticator  # type: ignore[attr-defined]
        return await auth.check_account_password(self, name, given)

    async def confirm_sudo(self, password: str) -> None:
        """Check this session's own password (the sign-in's throttle applies) and open its sudo
        window (portal/access/sudo.py); the gate (views/gate.py) asks for it on every route."""
        await self.runtime.sudo.confirm(
            self.current_user.name, self.get_session_cookie(),  # type: ignore[attr-defined]
            password, self.check_own_password)

    @property
    def actor_name(self) -> str:
        """Who is acting, as the event log writes it: a user's name, or `name (service)`."""
        current = self.current_user  # type: ignore[attr-defined]
        kind = getattr(current, "kind", "user")
        return current.name if kind == "user" else f"{current.name} ({kind})"


class PortalHandler(RefusalResponses, PortalCommon, BaseHandler):
    """Base for every portal page and fragment."""

    # htmx: one helper per header, like django-htmx.
    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def hx_trigger(self, event: str, detail: Any = None) -> None:
        """Add an event to HX-Trigger; earlier events of this response are kept."""
        events = self.__dict__.setdefault("_hx_events", {})
        events[event] = detail
        self.set_header("HX-Trigger", json.dumps(events))

    def hx_redirect(self, url: str) -> None:
        self.set_header("HX-Redirect", url)

    def hx_retarget(self, selector: str) -> None:
        self.set_header("HX-Retarget", selector)

    def check_xsrf_cookie(self) -> None:
        # No session (signed out in another tab, cookie expired): the page's token cannot match,
        # and the hub's "XSRF cookie does not match" would land in the card. Such a request is
        # anonymous and changes nothing (portal_authenticated sends htmx to the login page), so
        # the check is left to requests that do carry a session.
        if found_no_session(self):
            return None
        return super().check_xsrf_cookie()

    def portal_url(self, *parts: str) -> str:
        return url_path_join(self.hub.base_url, "portal", *parts)

    async def render_fragment(self, name: str, **ns: Any) -> str:
        # Buttons and forms name actions through `server_actions` (URL segments, form values).
        return await self.render_template(name, portal_url=self.portal_url,
                                          human_size=human_size, server_actions=ServerAction,
                                          short_id=short_id, **ns)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if not self.is_htmx:
            return super().write_error(status_code, **kwargs)
        exception = (kwargs.get("exc_info") or (None, None, None))[1]
        refusal = getattr(exception, "jupyterhub_message", "")
        message = ""
        if isinstance(exception, web.HTTPError) and exception.log_message:
            message = exception.log_message % exception.args if exception.args else (
                exception.log_message
            )
        if status_code >= 500 and not refusal:
            message = "Something went wrong on the hub."
        message = message or responses.get(status_code, "Error")
        if getattr(exception, "sudo_required", False):
            return self.write_sudo_dialog(message)
        # Errors land in a flash area (or the one the element asked for), never over the card.
        target = self.request.headers.get("X-Portal-Error-Target") or DEFAULT_ERROR_TARGET
        if target.startswith("#") and target[1:].replace("-", "").isalnum():
            self.hx_retarget(target)
        self.set_header("HX-Reswap", "innerHTML")
        html = self.render_template(
            "partials/error.html", sync=True, status_code=status_code, message=message
        )
        self.finish(html)

    def write_sudo_dialog(self, message: str) -> None:
        """The password dialog that sends the refused action again (partials/sudo_dialog)."""
        fields = [(name, value.decode(errors="replace"))
                  for name, values in self.request.body_arguments.items()
                  if name not in ("_xsrf", "sudo_password") for value in values]
        target = self.request.headers.get("HX-Target", "")
        if not target.replace("-", "").isalnum():
            target = ""
        self.set_header("X-Portal-Sudo", "required")
        self.hx_retarget("#portal-modal")
        self.set_header("HX-Reswap", "innerHTML")
        html = self.render_template(
            "partials/sudo_dialog.html", sync=True, action=self.request.path, fields=fields,
            target=target, message=message, minutes=self.runtime.settings.sudo_minutes,
        )
        self.finish(html)


def portal_authenticated(
    method: Callable[..., Awaitable[Any]],
) -> Callable[..., Awaitable[Any]]:
    """Like `web.authenticated`, but an htmx request with an expired session gets HX-Redirect.

    A login page swapped into a fragment would be useless; the browser must go there instead.
    """

    @functools.wraps(method)
    async def wrapper(self: PortalHandler, *args: Any, **kwargs: Any) -> Any:
        if self.current_user is None:
            if self.is_htmx:
                # After signing in, come back to the portal page (a fragment URL is no page).
                login = self.get_login_url()
                sep = "&" if "?" in login else "?"
                self.hx_redirect(f"{login}{sep}{urlencode({'next': self.portal_url()})}")
                self.set_status(401)
                self.finish()
                return None
            if self.request.method in ("GET", "HEAD"):
                url = self.get_login_url()
                sep = "&" if "?" in url else "?"
                self.redirect(f"{url}{sep}{urlencode({'next': self.request.uri})}")
                return None
            raise web.HTTPError(403, "Sign in first.")
        return await method(self, *args, **kwargs)

    return wrapper
