"""Owns sudo mode on the hub's own REST API: routes that grant host power, cookie requests.

The hub's admin page (and any script riding a browser session) reaches these with a cookie:
`POST /hub/api/groups/docker-sock/users`, creating users or groups that carry an admin flag or
a Docker-access group, `PATCH /hub/api/users/x {"admin": true}`, and minting a token with a
session that holds admin scopes (a token would bypass everything else). Such a request needs a
recent password confirmation (`POST /hub/portal/api/sudo`); token requests pass as before.
The subclasses replace the hub's classes on the same routes (portal.upstream).
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from jupyterhub.apihandlers.groups import (
    GroupAPIHandler,
    GroupListAPIHandler,
    GroupUsersAPIHandler,
)
from jupyterhub.apihandlers.users import (
    UserAPIHandler,
    UserListAPIHandler,
    UserTokenListAPIHandler,
)

from ..access_groups import BUILTIN_GROUPS
from .base import PortalCommon
from .refusals import RefusalResponses

# A session holding any of these can grant host power, so its tokens could too.
GRANTING_SCOPES = ("admin:users", "admin:groups", "groups")


async def finish(result: Any) -> None:
    """The hub's methods are sync or async; await the async ones."""
    if isawaitable(result):
        await result


class SudoGated(RefusalResponses, PortalCommon):
    """Mixed in first: checks sudo mode before the hub's own method runs."""

    def body(self) -> dict[str, Any]:
        try:
            body = self.get_json_body()  # type: ignore[attr-defined]
        except Exception:  # the hub's own method answers a bad body with its usual 400
            return {}
        return body if isinstance(body, dict) else {}

    def makes_admin(self) -> bool:
        return self.body().get("admin") is True


class GatedGroupUsers(SudoGated, GroupUsersAPIHandler):
    async def post(self, group_name: str) -> None:
        if group_name in BUILTIN_GROUPS:
            await self.require_sudo(f"Adding users to {group_name}")
        await finish(super().post(group_name))  # type: ignore[misc]


class GatedGroup(SudoGated, GroupAPIHandler):
    async def post(self, group_name: str) -> None:
        if group_name in BUILTIN_GROUPS:
            await self.require_sudo(f"Creating {group_name}")
        await finish(super().post(group_name))


class GatedGroupList(SudoGated, GroupListAPIHandler):
    async def post(self) -> None:
        names = self.body().get("groups") or []
        if isinstance(names, list) and set(names) & set(BUILTIN_GROUPS):
            await self.require_sudo("Creating a Docker-access group")
        await finish(super().post())


class GatedUser(SudoGated, UserAPIHandler):
    async def post(self, user_name: str) -> None:
        if self.makes_admin():
            await self.require_sudo("Creating an admin")
        await finish(super().post(user_name))

    async def patch(self, user_name: str) -> None:
        if self.makes_admin():
            await self.require_sudo("Making an admin")
        await finish(super().patch(user_name))


class GatedUserList(SudoGated, UserListAPIHandler):
    async def post(self) -> None:
        if self.makes_admin():
            await self.require_sudo("Creating admins")
        await finish(super().post())


class GatedTokens(SudoGated, UserTokenListAPIHandler):
    async def post(self, user_name: str) -> None:
        scopes = self.parsed_scopes  # type: ignore[attr-defined]
        if any(scope in scopes for scope in GRANTING_SCOPES):
            await self.require_sudo("Making an API token with an admin's session")
        await finish(super().post(user_name))


REPLACEMENTS: dict[type, type] = {
    GroupUsersAPIHandler: GatedGroupUsers,
    GroupAPIHandler: GatedGroup,
    GroupListAPIHandler: GatedGroupList,
    UserAPIHandler: GatedUser,
    UserListAPIHandler: GatedUserList,
    UserTokenListAPIHandler: GatedTokens,
}
