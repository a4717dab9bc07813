"""Owns the environments' pages: the admin section (the list, a form to add or change one,
removal) and the JSON API (`/hub/portal/api/environments`), both under admin:servers."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..governance.environments import FIELDS
from ..platform.errors import ActionRefused
from ..platform.hub_queries import group_members
from .admin_pages import admin_page
from .api import PortalAPIHandler
from .base import PortalHandler, portal_authenticated

# Environments decide what every lab runs: the scope that starts and stops everyone's servers.
ENVIRONMENTS_SCOPE = "admin:servers"


class EnvironmentsSectionHandler(PortalHandler):
    async def render_section(self, notice: str = "", editing: str = "") -> None:
        environments = await self.runtime.environments.all()
        # "Change" fills the form with the environment's values (variables included).
        form = next((e for e in environments if e.name == editing), None)
        self.finish(await self.render_fragment(
            "partials/environments_section.html", notice=notice, environments=environments,
            form=form, groups=list(group_members(self.db))))

    @portal_authenticated
    @needs_scope(ENVIRONMENTS_SCOPE)
    @admin_page("environments")
    async def get(self) -> None:
        await self.render_section(editing=self.get_argument("edit", ""))

    @portal_authenticated
    @needs_scope(ENVIRONMENTS_SCOPE)
    async def post(self) -> None:
        service = self.runtime.environments
        if name := self.get_body_argument("remove", ""):
            await service.remove(self.actor_name, name)
            await self.render_section(f"{name} removed. Running labs keep it until they stop.")
            return
        # The form's fields only (not its XSRF token); an unticked GPU box sends nothing.
        raw = {f: self.get_body_argument(f, None) for f in sorted(FIELDS)}
        env = await service.save(self.db, self.actor_name, raw)
        await self.render_section(f"{env.name} saved: {env.words()}. It applies at each "
                                  "lab's next start.")


class EnvironmentsAPI(PortalAPIHandler):
    """`GET /hub/portal/api/environments`: every environment."""

    @needs_scope(ENVIRONMENTS_SCOPE)
    async def get(self) -> None:
        self.write({"environments": [e.as_json() for e in
                                     await self.runtime.environments.all()]})


class EnvironmentAPI(PortalAPIHandler):
    """`PUT .../environments/{name}` with {description, image, memory, cpus, gpu, variables,
    groups} adds or replaces it; `DELETE` removes it."""

    @needs_scope(ENVIRONMENTS_SCOPE)
    async def put(self, name: str) -> None:
        body = self.json_body()
        if body.setdefault("name", name) != name:
            raise ActionRefused(f"The body names {str(body['name'])[:64]!r}, the address "
                                f"{name[:64]!r}: rename by adding the new one and removing "
                                "the old.", 400)
        env = await self.runtime.environments.save(self.db, self.actor_name, body)
        self.write(env.as_json())

    @needs_scope(ENVIRONMENTS_SCOPE)
    async def delete(self, name: str) -> None:
        env = await self.runtime.environments.remove(self.actor_name, name)
        self.write(env.as_json())


routes = [
    (r"/portal/admin/environments", EnvironmentsSectionHandler),
    (r"/portal/api/environments", EnvironmentsAPI),
    (r"/portal/api/environments/([^/]+)", EnvironmentAPI),
]
