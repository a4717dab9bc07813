"""Owns the admin console's pages: which sections exist, their addresses, the sidebar, and a
section's fragment URL answering a browser's navigation with the whole page.

Each section keeps the one URL its fragment always had (`/hub/portal/admin/audit`, ...): htmx
asks it for the fragment (HX-Request), a browser (a link, a bookmark, reload, or htmx restoring
history it no longer holds) gets the page. Its scopes stay the fragment handler's own.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tornado import web

if TYPE_CHECKING:
    from .base import PortalHandler

NOT_POSITION = ("refresh",)  # query keys that say how to load, not where the page is


@dataclass(frozen=True)
class Section:
    slug: str  # the URL segment under /hub/portal/admin/ ("": the dashboard)
    title: str
    template: str  # what the page shows (a partial that loads the fragment)
    scope: str  # the sidebar lists it for holders of this scope (the handler checks its own)
    group: str  # the sidebar's heading
    anchors: tuple[str, ...] = ()  # its #ids on the one long admin page of before (old links)


SECTIONS: tuple[Section, ...] = (
    Section("", "Dashboard", "partials/admin_dashboard_section.html", "admin-ui", "Overview"),
    Section("users", "Users and servers", "partials/admin_users_section.html", "admin-ui",
            "People", ("admin-users",)),
    Section("signups", "Sign-ups", "partials/admin_signups_section.html", "admin:users",
            "People", ("signups",)),
    Section("accounts", "Create accounts", "partials/admin_create_section.html", "admin:users",
            "People", ("admin-create", "admin-batch")),
    Section("dormant", "Dormant accounts", "partials/admin_dormant_section.html", "admin:users",
            "People", ("admin-dormant",)),
    Section("account-policy", "Two-factor rule", "partials/admin_policy_section.html",
            "admin:users", "Access", ("admin-account-policy",)),
    Section("groups", "Docker access", "partials/admin_groups_section.html", "admin:groups",
            "Access", ("admin-groups",)),
    Section("audit", "Audit", "partials/admin_audit_section.html", "admin:users", "Access",
            ("admin-audit",)),
    Section("broadcast", "Broadcast", "partials/admin_broadcast_section.html", "admin:servers",
            "Servers", ("admin-broadcast",)),
    Section("culling", "Idle servers", "partials/admin_culling_section.html", "admin:servers",
            "Servers"),
    Section("environments", "Environments", "partials/admin_environments_section.html",
            "admin:servers", "Servers"),
    Section("images", "Images", "partials/admin_images_section.html", "admin:servers",
            "Servers"),
    Section("limits", "Limits", "partials/admin_limits_section.html", "admin:groups", "Servers"),
    Section("usage", "Live usage", "partials/admin_usage_section.html", "admin:servers",
            "Servers"),
    Section("insights", "Insights", "", "admin:servers", "Servers"),  # a page of its own
    Section("gpu", "GPU", "partials/admin_gpu_section.html", "admin-ui", "Servers",
            ("gpu-section",)),
    Section("archived-volumes", "Archived volumes", "partials/admin_archive_section.html",
            "admin:users", "Servers", ("admin-archive",)),
)
BY_SLUG = {s.slug: s for s in SECTIONS}


def visible_sections(scopes: Any, signup: bool) -> list[Section]:
    """The sidebar: sections whose scope the admin holds (Sign-ups only while sign-up is on)."""
    return [s for s in SECTIONS if s.scope in scopes and (signup or s.slug != "signups")]


def old_anchors() -> dict[str, str]:
    """`#id` of the old one-page admin area -> the section's slug (portal.js follows them)."""
    return {anchor: s.slug for s in SECTIONS for anchor in s.anchors}


def position(query: str) -> str:
    """A page's position (filters, sort, page) as its URL keeps it: empty values and load
    hints dropped, so one position has one address."""
    return urlencode([(k, v) for k, v in parse_qsl(query) if v and k not in NOT_POSITION])


def page_url(handler: PortalHandler, slug: str, query: str = "") -> str:
    url = handler.portal_url("admin", *([slug] if slug else []))
    return f"{url}?{query}" if query else url


def push_position(handler: PortalHandler, slug: str) -> None:
    """Put a section's new position (a filter changed, another page of it) in the address bar,
    only while it is shown on its own page and only when the position moved (a first load or
    a pushed refresh would add a history entry that goes nowhere)."""
    if handler.get_argument("refresh", ""):  # a section reloading itself: same position
        return
    current = urlsplit(handler.request.headers.get("HX-Current-URL", ""))
    if current.path.rstrip("/") != page_url(handler, slug).rstrip("/"):
        return
    here = position(handler.request.query)
    if here != position(current.query):
        handler.set_header("HX-Push-Url", page_url(handler, slug, here))


def wants_page(handler: PortalHandler) -> bool:
    """A browser's navigation, not htmx asking for a fragment. htmx restoring a history entry
    it no longer caches sends HX-Request too, but swaps the whole page in."""
    headers = handler.request.headers
    return not handler.is_htmx or headers.get("HX-History-Restore-Request") == "true"


async def render_page(handler: PortalHandler, slug: str) -> None:
    """The admin page showing one section, with the sidebar; 403 without the admin UI."""
    if "admin-ui" not in handler.parsed_scopes:
        raise web.HTTPError(403, "The admin pages need the admin-ui scope.")
    html = await handler.render_fragment(
        "pages/admin.html", runtime=handler.runtime, **frame(handler, slug),
        # The section loads at the position the address bar holds (back and reload keep it).
        section_query=position(handler.request.query),
    )
    handler.finish(html)


def frame(handler: PortalHandler, slug: str) -> dict[str, Any]:
    """What pages/admin_frame.html needs: the sidebar, and which page is this one."""
    signup = handler.runtime.settings.signup
    return {"section": BY_SLUG[slug], "signup": signup, "old_anchors": old_anchors(),
            "sections": visible_sections(handler.parsed_scopes, signup)}


def admin_page(slug: str) -> Callable[[Callable[..., Awaitable[Any]]],
                                      Callable[..., Awaitable[Any]]]:
    """On a section's fragment GET (under its scope checks): a browser gets the whole page."""

    def decorate(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def wrapper(self: PortalHandler, *args: Any, **kwargs: Any) -> Any:
            self.set_header("Vary", "HX-Request, HX-History-Restore-Request")  # one URL, two
            if wants_page(self):
                return await render_page(self, slug)
            return await method(self, *args, **kwargs)

        return wrapper

    return decorate
