"""Owns the volume modal: a user's own volumes with sizes, and resetting the chosen ones."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..platform.errors import DockerUnavailable
from ..servers.view import server_view
from ..volumes.service import reset_volumes, volume_rows
from .base import PortalHandler, portal_authenticated


class VolumesHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        user = self.target_user(user_name)
        view = await server_view(user, self.runtime)
        listing = None
        problem = ""
        try:
            listing = await volume_rows(user, self.runtime)
        except DockerUnavailable as e:  # the modal still opens and says why it is empty
            problem = e.message
        html = await self.render_fragment(
            "partials/volumes_modal.html", view=view, rows=listing.rows if listing else [],
            listing=listing, target=user, problem=problem, shared=user.spawner.shared_volume(),
        )
        self.finish(html)


class VolumesResetHandler(PortalHandler):
    @portal_authenticated
    @needs_scope("servers")
    async def post(self, user_name: str) -> None:
        user = self.target_user(user_name)
        result = await reset_volumes(
            user, self.runtime, self.get_body_arguments("volume"),
            # Exactly one "yes": duplicated or mixed answers are no consent.
            confirmed=self.get_body_arguments("confirm") == ["yes"],
            how_to_confirm="Tick the box to confirm that the data will be deleted.",
            actor=self.actor_name,
        )
        html = await self.render_fragment("partials/reset_result.html", result=result)
        self.hx_trigger("portal:server-changed")
        self.finish(html)


routes = [
    (r"/portal/users/([^/]+)/volumes", VolumesHandler),
    (r"/portal/users/([^/]+)/volumes/reset", VolumesResetHandler),
]
