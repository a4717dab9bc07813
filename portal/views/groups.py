"""Owns the Docker-access groups section: members, add (with search), remove, audit."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..access import groups
from ..platform.errors import ActionRefused
from ..platform.hub_queries import search_users
from .admin_pages import admin_page
from .base import PortalHandler, portal_authenticated


class GroupsHandler(PortalHandler):
    """The whole groups section (re-rendered after every change)."""

    async def render_section(self, notice: str = "") -> None:
        views = await groups.group_views(self.db, self.runtime.group_guard)
        changes = await self.runtime.store.membership_changes(limit=20)
        html = await self.render_fragment(
            "partials/groups_section.html", groups=views, changes=changes, notice=notice
        )
        self.finish(html)

    @portal_authenticated
    @needs_scope("admin:groups")
    @admin_page("groups")
    async def get(self) -> None:
        await self.render_section()


class MembershipHandler(GroupsHandler):
    @portal_authenticated
    @needs_scope("groups")
    async def post(self, group_name: str, action: str) -> None:
        username = self.get_body_argument("username", "")
        if not username.strip():
            raise ActionRefused("Choose a user first.", 400)
        # Adding to docker-sock / docker-privileged is root on the host: the gate asked for the
        # admin's password before this ran (portal/access/host_power.py).
        changed = await groups.change_membership(
            self.db, self.runtime.group_guard, self.current_user.name, group_name,
            username, add=action == "add",
        )
        verb = "added to" if action == "add" else "removed from"
        notice = (
            f"{username.strip()} {verb} {group_name}. It applies at their next start."
            if changed else f"No change: {username.strip()} was already so."
        )
        await self.render_section(notice)


class UserSearchHandler(PortalHandler):
    """`<option>`s for the member picker's datalist, as the admin types."""

    @portal_authenticated
    @needs_scope("list:users")
    async def get(self) -> None:
        query = self.get_argument("username", "")[:100]
        names = search_users(self.db, query) if query.strip() else []
        html = await self.render_fragment("partials/user_options.html", names=names)
        self.finish(html)


routes = [
    (r"/portal/admin/groups", GroupsHandler),
    (r"/portal/admin/groups/([^/]+)/(add|remove)", MembershipHandler),
    (r"/portal/admin/user-search", UserSearchHandler),
]
