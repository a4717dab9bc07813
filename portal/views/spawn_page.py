"""Owns the portal's subclass of JupyterHub's own start page (`/hub/spawn/<user>/<server>`):
a named server the user has not got yet is checked (the name rule, the user's maximum) before
the hub's own code runs. JupyterHub (5.5 and 6.1) makes the server's record first and leaves
the maximum to `named_server_limit_per_user`, which DS Hub keeps at 0 (hub_setup.py): the page
made an empty record past the maximum, then failed with a 500 when the spawner refused it."""

from __future__ import annotations

from typing import Any

from jupyterhub.handlers.pages import SpawnHandler
from tornado import web

from ..compat.scopes import START_SERVERS
from ..servers.named import check_new_server
from .base import PortalCommon
from .hub_overrides import finish
from .refusals import RefusalResponses


class CheckedSpawnHandler(RefusalResponses, PortalCommon, SpawnHandler):
    @web.authenticated
    async def get(self, user_name: str | None = None, server_name: str | None = "") -> None:
        await self.check_new(user_name, server_name)
        await finish(super().get(user_name, server_name))

    @web.authenticated
    async def post(self, user_name: str | None = None, server_name: str | None = "",
                   *rest: Any) -> None:
        await self.check_new(user_name, server_name)
        await finish(super().post(user_name, server_name, *rest))

    async def check_new(self, user_name: str | None, server_name: str | None) -> None:
        """400 for a bad name, 409 past the maximum, nothing created; only for whoever may
        start that server (anyone else gets the hub's own refusal, which tells them nothing)."""
        if not server_name:
            return
        name = user_name or self.current_user.name
        if not self.has_scope(f"{START_SERVERS}!server={name}/{server_name}"):
            return
        user = self.find_user(name)
        if user is not None:
            await check_new_server(user, server_name, self.runtime)
