"""Owns the images labs use: the admin section (per engine or Swarm node: tags, ID, size, age,
servers, those on an outdated image) and its JSON twin (`/hub/portal/api/images`), both under
admin:servers, as the environments they come from."""

from __future__ import annotations

import time

from jupyterhub.scopes import needs_scope

from ..governance.image_updates import EngineImages, running_lab_images, short_id
from .admin_pages import admin_page
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated
from .environments import ENVIRONMENTS_SCOPE


class ImagesSectionHandler(PortalHandler):
    @portal_authenticated
    @needs_scope(ENVIRONMENTS_SCOPE)
    @admin_page("images")
    async def get(self) -> None:
        labs = await running_lab_images(self.db, self.users)
        engines = await self.runtime.images.in_use(labs)
        self.finish(await self.render_fragment("partials/images_section.html", engines=engines,
                                               labs=len(labs), now=time.time()))


def as_json(engine: EngineImages) -> dict[str, object]:
    return {"where": engine.where, "problem": engine.problem or None, "images": [
        {"id": row.image.id, "short_id": short_id(row.image.id), "tags": list(row.image.tags),
         "size_bytes": row.image.size, "created": row.image.created or None,
         "servers": len(row.users), "users": row.users, "outdated": row.outdated,
         "tags_moved": row.moved} for row in engine.images]}


class ImagesAPI(PortalAPIHandler):
    """`GET /hub/portal/api/images`: the section's figures, per engine or node."""

    @needs_scope(ENVIRONMENTS_SCOPE)
    async def get(self) -> None:
        labs = await running_lab_images(self.db, self.users)
        self.write({"engines": [as_json(e) for e in await self.runtime.images.in_use(labs)]})


routes = [
    (r"/portal/admin/images", ImagesSectionHandler),
    (r"/portal/api/images", ImagesAPI),
]
