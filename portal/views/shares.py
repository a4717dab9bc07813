"""Owns the card's sharing panel (whom a server is shared with, share, revoke) and the portal's
"Shared with me" list, over the hub's own shares (portal/servers/sharing.py)."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser
from ..servers.sharing import KINDS, grant, revoke, shared_with, shares_of
from .base import PortalHandler, portal_authenticated


class SharePanel(PortalHandler):
    """The panel of one server (`server`: a named one, "": the default one)."""

    async def render_panel(self, owner: HubUser, message: str = "", server: str = "") -> None:
        html = await self.render_fragment(
            "partials/share_panel.html", target=owner, server=server,
            shares=shares_of(self.db, owner, server), message=message,
            owner=owner.name == self.current_user.name)
        self.finish(html)

    def form(self) -> tuple[str, str]:
        return self.get_body_argument("kind", ""), self.get_body_argument("name", "")

    async def share(self, owner: HubUser, server: str = "") -> None:
        kind, name = self.form()
        self._may_look_up(kind, name.strip())
        entry, changed = await grant(self.db, self.runtime.audit, self.actor_name, owner,
                                     kind, name, server)
        done = "Shared with" if changed else "It was already shared with"
        await self.render_panel(owner, f"{done} {entry.words}.", server)

    async def revoke(self, owner: HubUser, server: str = "") -> None:
        kind, name = self.form()
        entry = await revoke(self.db, self.runtime.audit, self.actor_name, owner, kind, name,
                             server)
        await self.render_panel(owner, f"No longer shared with {entry.words}.", server)

    def _may_look_up(self, kind: str, name: str) -> None:
        """JupyterHub's own rule: naming whom to share with needs the scope to read that name."""
        if kind not in KINDS or not name:
            return  # the service says what is wrong with the input
        filtered = f"read:{kind}s:name!{kind}={name}"
        if not self.has_scope(filtered):
            raise ActionRefused(f"You may not look up {kind}s by name, so you cannot share "
                                f"with one; ask an admin for the scope read:{kind}s:name.", 403)


class SharesHandler(SharePanel):
    """GET: the panel; POST: share the server with the user or group the form names."""

    @portal_authenticated
    @needs_scope("read:shares")
    async def get(self, user_name: str) -> None:
        await self.render_panel(self.target_user(user_name))

    @portal_authenticated
    @needs_scope("shares")
    async def post(self, user_name: str) -> None:
        await self.share(self.target_user(user_name))


class ShareRevokeHandler(SharePanel):
    @portal_authenticated
    @needs_scope("shares")
    async def post(self, user_name: str) -> None:
        await self.revoke(self.target_user(user_name))


class NamedSharesHandler(SharePanel):
    """A named server's panel (`.../servers/<server>/shares`): the scopes on that server."""

    @portal_authenticated
    @needs_scope("read:shares")
    async def get(self, user_name: str, server_name: str) -> None:
        owner, server = self.target_server(user_name, server_name)
        await self.render_panel(owner, server=server)

    @portal_authenticated
    @needs_scope("shares")
    async def post(self, user_name: str, server_name: str) -> None:
        await self.share(*self.target_server(user_name, server_name))


class NamedShareRevokeHandler(SharePanel):
    @portal_authenticated
    @needs_scope("shares")
    async def post(self, user_name: str, server_name: str) -> None:
        await self.revoke(*self.target_server(user_name, server_name))


class SharedWithMeHandler(PortalHandler):
    """The servers others shared with this user (directly or with one of their groups)."""

    @portal_authenticated
    @needs_scope("read:users:shares")
    async def get(self, user_name: str) -> None:
        user = self.target_user(user_name)
        servers = shared_with(self.db, user, lambda orm_user: self.users[orm_user])
        html = await self.render_fragment("partials/shared_with_me.html", servers=servers,
                                          target=user)
        self.finish(html)


routes = [
    (r"/portal/users/([^/]+)/shares", SharesHandler),
    (r"/portal/users/([^/]+)/shares/revoke", ShareRevokeHandler),
    (r"/portal/users/([^/]+)/shared", SharedWithMeHandler),
    (r"/portal/users/([^/]+)/servers/([^/]+)/shares", NamedSharesHandler),
    (r"/portal/users/([^/]+)/servers/([^/]+)/shares/revoke", NamedShareRevokeHandler),
]
