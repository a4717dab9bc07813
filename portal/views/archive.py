"""Owns the archived volumes of deleted accounts in the admin area: list, restore, delete."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..platform.errors import ActionRefused
from ..platform.settings_choices import DeletedUserVolumes
from ..volumes import account_volumes
from .admin_pages import admin_page
from .base import PortalHandler, portal_authenticated


class ArchivedVolumesHandler(PortalHandler):
    async def render_section(self, notice: str = "") -> None:
        html = await self.render_fragment(
            "partials/archived_volumes.html", notice=notice,
            archived=await account_volumes.archived_volumes(self.runtime),
            archiving=self.runtime.settings.deleted_user_volumes is DeletedUserVolumes.ARCHIVE,
        )
        self.finish(html)

    @portal_authenticated
    @needs_scope("admin:users")
    @admin_page("archived-volumes")
    async def get(self) -> None:
        await self.render_section()


class ArchivedVolumeActionHandler(ArchivedVolumesHandler):
    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self, action: str) -> None:
        name = self.get_body_argument("volume", "")
        if action == "delete":
            await account_volumes.delete_archived(self.runtime, name, self.actor_name)
            notice = f"Deleted {name}."
        else:
            username = self.get_body_argument("username", "").strip()
            account = self.find_user(username) if username else None
            if account is None:
                raise ActionRefused(f"There is no account named {username[:80]!r}: create it "
                                    "first, then restore.", 404)
            restored = await account_volumes.restore(self.runtime, name, account,
                                                     self.actor_name)
            notice = f"Restored {name} into {restored} ({account.name})."
        await self.render_section(notice)


routes = [
    (r"/portal/admin/archived-volumes", ArchivedVolumesHandler),
    (r"/portal/admin/archived-volumes/(restore|delete)", ArchivedVolumeActionHandler),
]
