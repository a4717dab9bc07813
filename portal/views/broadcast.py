"""Owns the broadcast pages (composer, result, history) and the broadcast JSON API.

Senders need `custom:dshub:broadcast` or `admin:servers` (every admin has the latter).
"""

from __future__ import annotations

from typing import Any

from jupyterhub import orm
from jupyterhub.scopes import define_custom_scopes, needs_scope

from ..broadcast import broadcaster as broadcast
from ..broadcast import message as broadcast_message
from ..broadcast.broadcaster import Broadcaster
from ..broadcast.message import BroadcastRequest, check_recipients, refused, validate
from ..broadcast.results import Outcome
from ..broadcast.targets import resolve_targets
from ..platform.errors import ActionRefused
from ..platform.hub_queries import running_server_names
from .admin_pages import admin_page
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated

# needs_scope checks scope names when a handler is defined, before the hub loads its
# custom_scopes; the same definition again at hub start is accepted.
define_custom_scopes(broadcast.CUSTOM_SCOPES)

HISTORY_LIMIT = 50
# Message (<= MAX_RAW_LENGTH) plus up to MAX_RECIPIENT_NAMES names of up to 255 characters.
MAX_BODY_BYTES = broadcast_message.MAX_RAW_LENGTH * 4 + broadcast_message.MAX_RECIPIENT_NAMES * 1024
TYPE_LABELS = {"default": "Default", "info": "Info", "success": "Success", "warning": "Warning",
               "error": "Error", "in-progress": "In progress"}


class BroadcastSending:
    """What the page and the API share: resolve, send, raise 4xx for bad input."""

    def broadcaster(self) -> Broadcaster:
        return self.settings["dshub_portal"].broadcaster

    async def send_broadcast(self, request: BroadcastRequest) -> Outcome:
        targets = await resolve_targets(request.recipients, self.db, self.users)
        broadcaster = self.broadcaster()
        credentials = await broadcaster.credentials(self.db, targets)
        return await broadcaster.send(self.actor_name, request, targets, credentials)


def summary(recipients: dict[str, Any]) -> str:
    if recipients.get("all"):
        return "All active servers"
    if "users" in recipients:
        return "Users: " + ", ".join(recipients["users"])
    if "groups" in recipients:
        return "Groups: " + ", ".join(recipients["groups"])
    return "?"


class BroadcastPageMixin(BroadcastSending):
    async def render_body(self) -> str:
        users = self.db.query(orm.User).order_by(orm.User.name)
        running = running_server_names(self.db)  # named servers count as servers too
        groups = [g.name for g in self.db.query(orm.Group).order_by(orm.Group.name)]
        return await self.render_fragment(
            "partials/broadcast_body.html",
            users=[(u.name, u.name in running) for u in users],
            running_count=sum(len(servers) for servers in running.values()),
            groups=groups,
            history=await self.runtime.store.broadcasts(limit=HISTORY_LIMIT),
            **self.broadcast_ns(),
        )

    def broadcast_ns(self) -> dict[str, Any]:
        return {
            "types": TYPE_LABELS, "max_chars": broadcast_message.MAX_GRAPHEMES,
            "auto_close_range": broadcast_message.AUTO_CLOSE_RANGE,
            "default_auto_close": broadcast_message.DEFAULT_AUTO_CLOSE, "summary": summary,
        }


class BroadcastHandler(BroadcastPageMixin, PortalHandler):
    """GET: composer and history (what the admin page loads). POST: send, answer the result."""

    @portal_authenticated
    @needs_scope(*broadcast.SENDER_SCOPES)
    @admin_page("broadcast")
    async def get(self) -> None:
        self.finish(await self.render_body())

    @portal_authenticated
    @needs_scope(*broadcast.SENDER_SCOPES)
    async def post(self) -> None:
        mode = self.get_body_argument("recipients", "all")
        names = self.get_body_arguments(mode) if mode in ("users", "groups") else []
        auto_close: Any = "never"
        if self.get_body_argument("auto_close", "after") == "after":
            auto_close = self.get_body_argument("auto_close_seconds", "")
        request = validate(
            self.get_body_argument("message", ""), self.get_body_argument("type", "info"),
            auto_close, check_recipients(mode, names),
        )
        outcome = await self.send_broadcast(request)
        # The history under the composer reloads itself on this event.
        self.hx_trigger("portal:broadcast-sent")
        html = await self.render_fragment(
            "partials/broadcast_result.html", outcome=outcome, request=request,
            types=TYPE_LABELS,
        )
        self.finish(html)


class BroadcastHistoryHandler(BroadcastPageMixin, PortalHandler):
    @portal_authenticated
    @needs_scope(*broadcast.SENDER_SCOPES)
    async def get(self) -> None:
        html = await self.render_fragment(
            "partials/broadcast_history.html",
            history=await self.runtime.store.broadcasts(limit=HISTORY_LIMIT),
            **self.broadcast_ns(),
        )
        self.finish(html)


class BroadcastAPI(BroadcastSending, PortalAPIHandler):
    """`/hub/portal/api/broadcasts`: POST to send, GET the history (newest first)."""

    @needs_scope(*broadcast.SENDER_SCOPES)
    async def get(self) -> None:
        try:
            limit = int(self.get_argument("limit", str(HISTORY_LIMIT)))
        except ValueError:
            raise ActionRefused("limit must be a whole number.", 400) from None
        rows = await self.runtime.store.broadcasts(limit=max(1, min(limit, 500)))
        self.write({"broadcasts": [{
            "id": b.id, "sender": b.sender, "created": b.created.isoformat(),
            "message": b.message, "type": b.type, "auto_close": b.auto_close,
            "recipients": b.recipients, "targeted": len(b.results), "delivered": b.delivered,
            "failed": b.failed, "results": b.results,
        } for b in rows]})

    @needs_scope(*broadcast.SENDER_SCOPES)
    async def post(self) -> None:
        # A body far beyond any valid request is refused before it is parsed as JSON.
        if len(self.request.body) > MAX_BODY_BYTES:
            raise ActionRefused("The request body is far too large for a broadcast.", 413)
        body = self.json_body()
        recipients = body.get("recipients", "all")
        if isinstance(recipients, dict):
            if len(recipients) != 1 or not isinstance(next(iter(recipients.values())), list):
                raise refused('recipients: "all", {"users": [...]} or {"groups": [...]}.')
            mode, names = next(iter(recipients.items()))
            chosen = check_recipients(mode, names)
        else:
            chosen = check_recipients(recipients)
        request = validate(
            body.get("message"), body.get("type", "info"),
            body.get("auto_close", broadcast_message.DEFAULT_AUTO_CLOSE), chosen,
        )
        outcome = await self.send_broadcast(request)
        self.write(outcome.as_json())


routes = [
    (r"/portal/admin/broadcast", BroadcastHandler),
    (r"/portal/admin/broadcast/history", BroadcastHistoryHandler),
    (r"/portal/api/broadcasts", BroadcastAPI),
]
