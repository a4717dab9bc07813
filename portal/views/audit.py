"""Owns the audit feed: the admin section with filters, CSV/JSON export and the JSON API."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from jupyterhub.scopes import needs_scope

from ..audit.log import EventKind
from ..audit.query import MAX_LIMIT, as_csv, parse_query
from .admin_pages import admin_page, push_position
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated

AUDIT_SCOPE = "admin:users"  # every admin holds it; a token can be given just this scope


class AuditSectionHandler(PortalHandler):
    """The filter form and one page of events (htmx swaps it in place)."""

    @portal_authenticated
    @needs_scope(AUDIT_SCOPE)
    @admin_page("audit")
    async def get(self) -> None:
        query = parse_query(lambda name: self.get_argument(name, ""))
        push_position(self, "audit")
        events = await self.runtime.audit.events(replace(query, limit=query.limit + 1))
        filters = {k: self.get_argument(k, "") for k in ("user", "actor", "kind", "since",
                                                          "until")}
        html = await self.render_fragment(
            "partials/audit_feed.html", events=events[:query.limit], query=query,
            more=len(events) > query.limit, kinds=list(EventKind), filters=filters,
            export=urlencode({k: v for k, v in filters.items() if v}),
        )
        self.finish(html)


class AuditAPI(PortalAPIHandler):
    """`GET /hub/portal/api/audit?user=&actor=&kind=&since=&until=&limit=&offset=&format=`."""

    @needs_scope(AUDIT_SCOPE)
    async def get(self) -> None:
        query = parse_query(lambda name: self.get_argument(name, ""))
        if not self.get_argument("limit", ""):
            query = replace(query, limit=MAX_LIMIT)  # an export without a limit takes it all
        if self.get_argument("format", "json") == "csv":
            events = await self.runtime.audit.events(query)
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.set_header("Content-Disposition", 'attachment; filename="dshub-audit.csv"')
            self.finish(as_csv(events))
            return
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(await self.runtime.audit.events_json(query))


routes = [
    (r"/portal/admin/audit", AuditSectionHandler),
    (r"/portal/api/audit", AuditAPI),
]
