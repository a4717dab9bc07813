"""Shared handler behaviour: htmx helpers, session expiry for fragments, readable errors."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from http.client import responses
from typing import Any
from urllib.parse import urlencode

from jupyterhub.handlers import BaseHandler
from jupyterhub.utils import url_path_join
from tornado import web

from ..runtime import Runtime

DEFAULT_ERROR_TARGET = "#portal-flash"


class PortalHandler(BaseHandler):
    """Base for every portal page and fragment."""

    @property
    def runtime(self) -> Runtime:
        return self.settings["dshub_portal"]

    # htmx: one helper per header, like django-htmx.
    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def hx_trigger(self, event: str, detail: Any = None) -> None:
        self.set_header("HX-Trigger", json.dumps({event: detail}) if detail else event)

    def hx_redirect(self, url: str) -> None:
        self.set_header("HX-Redirect", url)

    def hx_retarget(self, selector: str) -> None:
        self.set_header("HX-Retarget", selector)

    def check_xsrf_cookie(self) -> None:
        # No session (signed out in another tab, cookie expired): the page's token cannot match,
        # and the hub's "XSRF cookie does not match" would land in the card. Such a request is
        # anonymous and changes nothing (portal_authenticated sends htmx to the login page), so
        # the check is left to requests that do carry a session.
        if getattr(self, "_jupyterhub_user", None) is None and hasattr(self, "_jupyterhub_user"):
            return None
        return super().check_xsrf_cookie()

    def portal_url(self, *parts: str) -> str:
        return url_path_join(self.hub.base_url, "portal", *parts)

    async def render_fragment(self, name: str, **ns: Any) -> str:
        return await self.render_template(name, portal_url=self.portal_url, **ns)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if not self.is_htmx:
            return super().write_error(status_code, **kwargs)
        exception = (kwargs.get("exc_info") or (None, None, None))[1]
        message = ""
        if isinstance(exception, web.HTTPError) and exception.log_message:
            message = exception.log_message % exception.args if exception.args else (
                exception.log_message
            )
        if status_code >= 500 or not message:
            message = message if status_code < 500 else "Something went wrong on the hub."
            message = message or responses.get(status_code, "Error")
        # Errors land in a flash area (or the one the element asked for), never over the card.
        target = self.request.headers.get("X-Portal-Error-Target") or DEFAULT_ERROR_TARGET
        if target.startswith("#") and target[1:].replace("-", "").isalnum():
            self.hx_retarget(target)
        self.set_header("HX-Reswap", "innerHTML")
        html = self.render_template(
            "partials/error.html", sync=True, status_code=status_code, message=message
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
