"""Owns the admin's user table: one page of users by search, filters and sort, in the URL."""

from __future__ import annotations

from urllib.parse import urlencode

from jupyterhub import orm
from jupyterhub.scopes import needs_scope

from ..admin.bulk_actions import (
    ACCOUNT_ACTIONS,
    SERVER_ACTIONS,
    Result,
    check_selection,
    run_bulk,
)
from ..admin.user_table import (
    IDLE_CHOICES,
    PAGE_SIZES,
    STATE_FILTERS,
    add_usage_and_limits,
    matching_names,
    read_query,
    table_page,
)
from ..broadcast.message import DEFAULT_AUTO_CLOSE, check_recipients, validate
from .admin_pages import page_url
from .base import PortalHandler, portal_authenticated
from .broadcast import BroadcastSending

QUERY_KEYS = ("q", "state", "group", "idle", "sort", "dir", "size")


class UserTableHandler(PortalHandler):
    """The table fragment; the admin page loads it with the page's own query string, and every
    change pushes the new position into the address bar (back and reload keep it)."""

    @portal_authenticated
    @needs_scope("admin-ui")
    async def get(self) -> None:
        query = read_query(lambda name: self.get_argument(name, ""))
        # A reload of the rows (a pushed change, the fallback poll): shared between the open
        # admin pages while nothing changed (operations/shared_renders.py).
        shared = self.runtime.tables if self.get_argument("refresh", "") else None
        generation, view = self.runtime.live.generation, self.request.query
        if shared is not None and (html := shared.get(generation, view)) is not None:
            self.finish(html)
            return
        page = table_page(self.db, self.users, self.runtime, query)
        await add_usage_and_limits(page, self.runtime)
        current = {k: self.get_argument(k, "") for k in QUERY_KEYS}

        def link(**change: object) -> str:
            """This table's query string with `change` applied (empty values dropped)."""
            merged = {**current, "page": str(query.page), **{k: str(v) for k, v in change.items()}}
            return urlencode({k: v for k, v in merged.items()
                              if v and not (k == "page" and v == "1")})

        # Back and reload keep the position: the address bar shows the users' page with it
        # (not for a load of what it already shows: the page's first load, the rows' own
        # refresh on a pushed update).
        if not self.get_argument("refresh", ""):
            self.set_header("HX-Push-Url", page_url(self, "users", link()))
        groups = [g for (g,) in self.db.query(orm.Group.name).order_by(orm.Group.name)]
        html = await self.render_fragment(
            "partials/user_table.html", page=page, query=query, current=current, link=link,
            groups=groups, states=STATE_FILTERS, idles=list(IDLE_CHOICES), sizes=PAGE_SIZES,
            bulk_server_actions=SERVER_ACTIONS, bulk_account_actions=ACCOUNT_ACTIONS,
        )
        if shared is not None:
            shared.put(generation, view, html)
        self.finish(html)


class BulkHandler(BroadcastSending, PortalHandler):
    """POST an action for the ticked users, or for all users matching the table's filters."""

    @portal_authenticated
    @needs_scope("admin:servers")
    @needs_scope("admin:groups")
    async def post(self) -> None:
        matching = None
        if self.get_body_argument("scope", "selected") == "matching":
            filters = {k: self.get_body_argument(f"filter_{k}", "") for k in QUERY_KEYS}
            matching = matching_names(self.db, read_query(lambda k: filters.get(k, "")))
        names = check_selection(self.get_body_arguments("user"), matching,
                                self.get_body_argument("matching", ""))
        message = self.get_body_argument("message", "")

        async def broadcast(names: list[str]) -> list[Result]:
            request = validate(message, "info", DEFAULT_AUTO_CLOSE,
                               check_recipients("users", names))
            outcome = await self.send_broadcast(request)
            return [Result(d.user, d.ok, d.reason) for d in outcome.results]

        action, group = self.get_body_argument("action", ""), self.get_body_argument("group", "")
        # Adding to a Docker-access group: the gate asked for the password (access/host_power.py).
        results = await run_bulk(
            action, names, runtime=self.runtime, hub=self.hub_actions(), db=self.db,
            find_user=self.find_user, group=group, broadcast=broadcast,
            hub_for=lambda server: self.hub_actions(server=server),
            authenticator=self.authenticator if "admin:users" in self.parsed_scopes else None)
        self.set_header("Cache-Control", "no-store")  # temporary passwords are shown once
        html = await self.render_fragment("partials/bulk_result.html", action=action,
                                          results=results)
        self.hx_trigger("portal:users-changed")
        self.finish(html)


routes = [
    (r"/portal/admin/user-table", UserTableHandler),
    (r"/portal/admin/bulk", BulkHandler),
]
