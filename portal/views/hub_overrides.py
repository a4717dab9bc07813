"""Owns the portal's subclasses of the hub's REST handlers: protected groups, audited changes,
no password sign-in on the token API.

Each class serves the routes of the hub handler it subclasses (portal/views/hub_routes.py swaps them
in while the hub builds its routes: an extra handler on the same path would never be reached,
as the hub routes a request to the first match). The hub's admin page uses the same REST API,
so it meets the same rules.

- DELETE /api/groups/docker-sock|docker-privileged: refused (403), members untouched.
- POST/DELETE /api/groups/<name>/users: done by the hub's own code, then every change is
  written to the event log with who made it (and to the Docker-access history).
- DELETE /api/users/<name>: the hub's own code, with the acting admin known to the
  spawner's delete_forever hook (the account-deletion event names them).
- POST /api/users/<name>/server(s/<server>): the environment in the user options (the body,
  or its "user_options") is checked first; an unknown or forbidden one is a 400 with a
  sentence and nothing starts. A new named server's name (400) and the user's maximum (409)
  are checked too, as for PUT (6.x: create without starting). The rest is the hub's own. A
  PATCH renaming a server is refused (its container and own volumes carry its name); DELETE
  with "remove" removes that named server's own volumes (lab/server_names.deleting_server).
- POST/PATCH/DELETE /api/shares/<owner>/<server>, DELETE /api/users|groups/<name>/shared/...:
  the hub's own code (sharing a server with host power was gated before it), then each share
  made or ended is written to the event log; sharing a server with its owner is a 400.
- Share codes (their REST API, the page exchanging one): share_code_overrides.py.
- POST /api/users/<name>/tokens with {"auth": {"username", "password"}} in the body (the hub
  would check that password with no session, outside the sign-in throttle, answering every
  failure with a bare 403): refused with a sentence saying where to go instead (sign in, then
  the token page, or an API token); the rest of that route is the hub's own.

Like every route, these go through the one gate (portal/views/gate.py): a cookie request that
grants host power still needs a recent password.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from inspect import isawaitable
from typing import Any

from jupyterhub import orm
from jupyterhub.apihandlers.groups import GroupAPIHandler, GroupUsersAPIHandler
from jupyterhub.apihandlers.shares import (
    GroupShareAPIHandler,
    ServerShareAPIHandler,
    UserShareAPIHandler,
)
from jupyterhub.apihandlers.users import (
    UserAPIHandler,
    UserServerAPIHandler,
    UserTokenListAPIHandler,
)
from jupyterhub.scopes import needs_scope
from jupyterhub.utils import url_path_join

from ..access.groups import BUILTIN_GROUPS
from ..audit.log import EventKind, acting_as
from ..compat.scopes import START_SERVERS
from ..lab.server_names import deleting_server
from ..platform.errors import ActionRefused
from ..servers.named import check_new_server
from ..servers.sharing import record_changes, refuse_owner, share_keys
from .base import PortalCommon
from .refusals import RefusalResponses


async def finish(result: Any) -> None:
    """The hub's methods are sync or async; await the async ones."""
    if isawaitable(result):
        await result


class ProtectedGroupAPIHandler(RefusalResponses, PortalCommon, GroupAPIHandler):
    @needs_scope("delete:groups")
    def delete(self, group_name: str) -> Any:
        if group_name in BUILTIN_GROUPS:
            raise ActionRefused(
                f"{group_name} is a built-in group of DS Hub and cannot be deleted; "
                "remove members one by one instead.", 403)
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


class ChoosingServerAPIHandler(RefusalResponses, PortalCommon, UserServerAPIHandler):
    if hasattr(UserServerAPIHandler, "put"):  # JupyterHub 6: create without starting, rename
        @needs_scope(START_SERVERS)
        async def put(self, user_name: str, server_name: str = "") -> None:
            user = self.find_user(user_name)
            if user is not None:  # else the hub's own 404
                await check_new_server(user, server_name, self.runtime)
            await finish(super().put(user_name, server_name))

        @needs_scope(START_SERVERS)
        async def patch(self, user_name: str, server_name: str = "") -> None:
            try:
                body = self.get_json_body()
            except Exception:  # the hub's own method answers a bad body with its usual 400
                body = None
            if isinstance(body, dict) and body.get("name") not in (None, server_name):
                raise ActionRefused("Servers cannot be renamed in DS Hub: their container and "
                                    "workspace volume carry the name. Add a server instead.",
                                    400)
            await finish(super().patch(user_name, server_name))

    async def delete(self, user_name: str, server_name: str = "") -> None:  # scope: the hub's
        # Both are copied into the hub's removal, which may run after the stop, as a task.
        deleting, actor = deleting_server.set(True), acting_as.set(self.actor_name)
        try:
            await finish(super().delete(user_name, server_name))
        finally:
            deleting_server.reset(deleting)
            acting_as.reset(actor)

    @needs_scope(START_SERVERS)
    async def post(self, user_name: str, server_name: str = "") -> None:
        user = self.find_user(user_name)
        if user is not None:  # else the hub's own 404
            await check_new_server(user, server_name, self.runtime)
            try:
                body = self.get_json_body()
            except Exception:  # the hub's own method answers a bad body with its usual 400
                body = None
            # 6.x reads {"user_options": {...}} or the body itself; 5.5 the body itself (which
            # chosen_name unwraps the same way).
            options = body.get("user_options", body) if isinstance(body, dict) else None
            await self.runtime.environments.choose(options, (g.name for g in user.groups))
        await finish(super().post(user_name, server_name))


class TokensWithoutPasswords(RefusalResponses, PortalCommon, UserTokenListAPIHandler):
    async def post(self, user_name: str) -> None:
        try:
            body = self.get_json_body()
        except Exception:  # the hub's own method answers a bad body with its usual 400
            body = None
        if isinstance(body, dict) and "auth" in body:
            await self.authenticator.passwords.pause()  # a guesser gets its answers slowly
            login = url_path_join(self.hub.base_url, "login")
            token_page = url_path_join(self.hub.base_url, "token")
            raise ActionRefused(
                "Password sign-in on the token API is off in DS Hub (it would check passwords "
                f"outside the sign-in throttle): sign in at {login} and make a token on "
                f"{token_page}, or send an API token in the Authorization header.", 403)
        await finish(super().post(user_name))


class _AuditedShares(RefusalResponses, PortalCommon):
    """Runs the hub's own share handler, then records each share it made or ended."""

    async def audited(self, owner: str, server_name: str | None,
                      call: Callable[[], Any]) -> None:
        spawner = self._lookup_spawner(owner, server_name or "", raise_404=False)  # type: ignore[attr-defined]
        before = share_keys(self.db, spawner)  # type: ignore[attr-defined]
        await finish(call())
        after = share_keys(self.db, spawner)  # type: ignore[attr-defined]
        await record_changes(self.runtime.audit, self.actor_name, owner, server_name or "",
                             before, after, "hub REST API")


class AuditedServerShareAPIHandler(_AuditedShares, ServerShareAPIHandler):
    @needs_scope("shares")
    async def post(self, user_name: str, server_name: str | None = None) -> None:
        try:
            body = self.get_json_body()
        except Exception:  # the hub's own method answers a bad body with its usual 400
            body = None
        if isinstance(body, dict):
            refuse_owner(user_name, body.get("user"))
        await self.audited(user_name, server_name,
                           partial(super().post, user_name, server_name))

    async def patch(self, user_name: str, server_name: str | None = None) -> None:
        await self.audited(user_name, server_name,
                           partial(super().patch, user_name, server_name))

    async def delete(self, user_name: str, server_name: str | None = None) -> None:
        await self.audited(user_name, server_name,
                           partial(super().delete, user_name, server_name))


class AuditedUserShareAPIHandler(_AuditedShares, UserShareAPIHandler):
    async def delete(self, user_name: str, owner_name: str, server_name: str) -> None:
        await self.audited(owner_name, server_name,
                           partial(super().delete, user_name, owner_name, server_name))


class AuditedGroupShareAPIHandler(_AuditedShares, GroupShareAPIHandler):
    async def delete(self, group_name: str, owner_name: str, server_name: str) -> None:
        await self.audited(owner_name, server_name,
                           partial(super().delete, group_name, owner_name, server_name))
