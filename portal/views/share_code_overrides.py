"""Owns the portal's subclasses of JupyterHub's share-code handlers, each run as the hub's own
code and then recorded: codes made or deleted on the REST API (`/hub/api/share-codes/<owner>/
<server>`: `share code`, `share code revoked`, by the code's id, never the code itself), and the
share someone's exchange of a code makes on the hub's page (`POST /hub/accept-share`: `share`,
by them). Like every route, these pass the gate first (portal/views/gate.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from jupyterhub import orm
from jupyterhub.apihandlers.shares import ServerShareCodeAPIHandler
from jupyterhub.handlers.pages import AcceptShareHandler
from tornado import web

from ..servers.share_codes import code_keys, record_code_changes
from ..servers.sharing import record_changes, share_keys
from .base import PortalCommon
from .hub_overrides import finish
from .refusals import RefusalResponses


class AuditedShareCodeAPIHandler(RefusalResponses, PortalCommon, ServerShareCodeAPIHandler):
    """Runs the hub's own share-code handler, then records each code it made or deleted."""

    async def post(self, user_name: str, server_name: str | None = None) -> None:
        await self.audited(user_name, server_name, partial(super().post, user_name, server_name))

    async def delete(self, user_name: str, server_name: str | None = None) -> None:
        await self.audited(user_name, server_name,
                           partial(super().delete, user_name, server_name))

    async def audited(self, owner: str, server_name: str | None,
                      call: Callable[[], Any]) -> None:
        spawner = self._lookup_spawner(owner, server_name or "", raise_404=False)
        before = code_keys(self.db, spawner)
        await finish(call())
        after = code_keys(self.db, spawner)
        await record_code_changes(self.runtime.audit, self.actor_name, owner, server_name or "",
                                  before, after, "hub REST API")


class AuditedAcceptShareHandler(RefusalResponses, PortalCommon, AcceptShareHandler):
    """The hub's own page exchanging a share code for a share, then the share it made recorded
    (`share`, naming the code by its id); a second exchange of the same share changes nothing
    and records nothing."""

    @web.authenticated
    async def post(self) -> None:
        found = orm.ShareCode.find(self.db, code=self.get_argument("code", ""))
        spawner = found.spawner if found is not None else None
        code_id = found.id if found is not None else None
        before = share_keys(self.db, spawner)
        await finish(super().post())
        if spawner is not None:
            await record_changes(self.runtime.audit, self.actor_name, spawner.user.name,
                                 spawner.name, before, share_keys(self.db, spawner),
                                 f"share code sc_{code_id} accepted")


