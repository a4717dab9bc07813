"""The volume modal: list a user's own volumes with sizes; reset the chosen ones."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope
from tornado import web

from .. import server_service as service
from .base import portal_authenticated
from .server import PortalHandlerWithUser


class VolumesHandler(PortalHandlerWithUser):
    @portal_authenticated
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        user = self.target_user(user_name)
        view = await service.server_view(user, self.runtime)
        rows = []
        problem = ""
        try:
            rows = await service.volume_rows(user, self.runtime)
        except service.DockerUnavailable as e:
            problem = f"Docker cannot be reached: {e}"
        html = await self.render_fragment(
            "partials/volumes_modal.html", view=view, rows=rows, target=user, problem=problem,
            shared=user.spawner.shared_volume(),
        )
        self.finish(html)


class VolumesResetHandler(PortalHandlerWithUser):
    @portal_authenticated
    @needs_scope("servers")
    async def post(self, user_name: str) -> None:
        user = self.target_user(user_name)
        keys = self.get_body_arguments("volume")
        try:
            service.choose_volumes(user, keys)
            # Exactly one "yes": duplicated or mixed answers are no consent.
            if self.get_body_arguments("confirm") != ["yes"]:
                raise service.ActionRefused(
                    "Tick the box to confirm that the data will be deleted.", 400
                )
            result = await service.reset_volumes(user, self.runtime, keys)
        except service.ActionRefused as e:
            raise web.HTTPError(e.status, "%s", e.message) from None
        html = await self.render_fragment("partials/reset_result.html", result=result)
        self.hx_trigger("portal:server-changed")
        self.finish(html)


routes = [
    (r"/portal/users/([^/]+)/volumes", VolumesHandler),
    (r"/portal/users/([^/]+)/volumes/reset", VolumesResetHandler),
]
