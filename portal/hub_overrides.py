"""Owns the portal's overrides of hub REST handlers: protected groups, audited changes.

JupyterHub routes a request to the FIRST matching handler, and its own API handlers come
before `extra_handlers` (JupyterHub.init_handlers), so an extra handler for the same path is
never reached. The authenticator's handlers come first of all (`Authenticator.get_handlers`,
public API): `DSHubAuthenticator` (portal/auth/authenticator.py) returns these there. The hub's
admin page uses the same REST API, so it meets the same rules.

- DELETE /api/groups/docker-sock|docker-privileged: refused (403), members untouched.
- POST/DELETE /api/groups/<name>/users: done by the hub's own code, then every change is
  written to the event log with who made it (and to the Docker-access history).
- DELETE /api/users/<name>: the hub's own code, with the acting admin known to the
  spawner's delete_forever hook (the account-deletion event names them).

Like every route, these go through the one gate (portal/views/gate.py): a cookie request that
grants host power still needs a recent password.
"""

from __future__ import annotations

from typing import Any

from jupyterhub import orm
from jupyterhub.apihandlers.groups import GroupAPIHandler, GroupUsersAPIHandler
from jupyterhub.apihandlers.users import UserAPIHandler
from jupyterhub.scopes import needs_scope
from tornado import web

from .access_groups import BUILTIN_GROUPS
from .audit import EventKind, acting_as
from .views.base import PortalCommon
from .views.hub_api import finish
from .views.refusals import RefusalResponses


class ProtectedGroupAPIHandler(RefusalResponses, PortalCommon, GroupAPIHandler):
    @needs_scope("delete:groups")
    def delete(self, group_name: str) -> Any:
        if group_name in BUILTIN_GROUPS:
            raise web.HTTPError(
                403, f"{group_name} is a built-in group of DS Hub and cannot be deleted; "
                     "remove members one by one instead.")
        return super().delete(group_name)


class AuditedGroupUsersAPIHandler(RefusalResponses, PortalCommon, GroupUsersAPIHandler):
    def _members(self, group_name: str) -> set[str]:
        group = orm.Group.find(self.db, group_name)
        return {u.name for u in group.users} if group is not None else set()

    async def _record(self, group_name: str, before: set[str]) -> None:
        after = self._members(group_name)
        runtime, actor = self.runtime, self.actor_name
        builtin = group_name in BUILTIN_GROUPS
        if builtin:
            runtime.group_guard.remember(group_name, after)
        for name, action in [*((n, "added") for n in sorted(after - before)),
                             *((n, "removed") for n in sorted(before - after))]:
            where = "to" if action == "added" else "from"
            await runtime.audit.record(actor, EventKind.GROUP_CHANGE, name,
                                       f"{action} {where} {group_name} (hub REST API)")
            if builtin:
                await runtime.store.add_membership_change(actor, group_name, name, action)

    async def post(self, group_name: str) -> None:
        before = self._members(group_name)
        await finish(super().post(group_name))  # the hub's own handler (gated before)
        await self._record(group_name, before)

    async def delete(self, group_name: str) -> None:
        before = self._members(group_name)
        await finish(super().delete(group_name))
        await self._record(group_name, before)


class AuditedUserAPIHandler(RefusalResponses, PortalCommon, UserAPIHandler):
    async def delete(self, user_name: str) -> None:
        token = acting_as.set(self.actor_name)
        try:
            await finish(super().delete(user_name))
        finally:
            acting_as.reset(token)


handlers = [
    (r"/api/users/([^/]+)", AuditedUserAPIHandler),
    (r"/api/groups/([^/]+)", ProtectedGroupAPIHandler),
    (r"/api/groups/([^/]+)/users", AuditedGroupUsersAPIHandler),
]
