"""Owns the card's sharing panel (whom a server is shared with, share, revoke) and the portal's
"Shared with me" list, over the hub's own shares (portal/servers/sharing.py)."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser
from ..servers.sharing import KINDS, grant, revoke, shared_with, shares_of
from .base import PortalHandler, portal_authenticated


class SharePanel(PortalHandler):
    async def render_panel(self, owner: HubUser, message: str = "") -> None:
        html = await self.render_fragment(
            "partials/share_panel.html", target=owner, shares=shares_of(self.db, owner),
            message=message, owner=owner.name == self.current_user.name)
        self.finish(html)

    def form(self) -> tuple[str, str]:
        return self.get_body_argument("kind", ""), self.get_body_argument("name", "")


class SharesHandler(SharePanel):
    """GET: the panel; POST: share the server with the user or group the form names."""

    @portal_authenticated
    @needs_scope("read:shares")
    async def get(self, user_name: str) -> None:
        await self.render_panel(self.target_user(user_name))

    @portal_authenticated
    @needs_scope("shares")
    async def post(self, user_name: str) -> None:
        owner = self.target_user(user_name)
        kind, name = self.form()
        self._may_look_up(kind, name.strip())
        entry, changed = await grant(self.db, self.runtime.audit, self.actor_name, owner,
                                     kind, name)
        done = "Shared with" if changed else "It was already shared with"
        await self.render_panel(owner, f"{done} {entry.words}.")

    def _may_look_up(self, kind: str, name: str) -> None:
        """JupyterHub's own rule: naming whom to share with needs the scope to read that name."""
        if kind not in KINDS or not name:
            return  # the service says what is wrong with the input
        filtered = f"read:{kind}s:name!{kind}={name}"
        if not self.has_scope(filtered):
            raise ActionRefused(f"You may not look up {kind}s by name, so you cannot share "
                                f"with one; ask an admin for the scope read:{kind}s:name.", 403)


class ShareRevokeHandler(SharePanel):
    @portal_authenticated
    @needs_scope("shares")
    async def post(self, user_name: str) -> None:
        owner = self.target_user(user_name)
        kind, name = self.form()
        entry = await revoke(self.db, self.runtime.audit, self.actor_name, owner, kind, name)
        await self.render_panel(owner, f"No longer shared with {entry.words}.")


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
]
