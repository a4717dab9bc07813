"""Owns creating accounts from a CSV in the admin area: upload and preview, confirm, follow the
progress, and download the credentials once."""

from __future__ import annotations

from jupyterhub.scopes import needs_scope

from ..admin.batch_accounts import power_groups, preview, start
from ..platform.errors import ActionRefused
from .base import PortalHandler, portal_authenticated


class BatchCommon(PortalHandler):
    def uploaded(self) -> str:
        files = self.request.files.get("file") or []
        if not files:
            raise ActionRefused("Choose a CSV file to upload.", 400)
        try:
            return files[0]["body"].decode("utf-8")
        except UnicodeDecodeError:
            raise ActionRefused("The file is not UTF-8 text (save it as CSV UTF-8).", 400) from None

    async def show(self, template: str, batch: object) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(await self.render_fragment(template, batch=batch,
                                               power_groups=power_groups(batch)))


class BatchPreviewHandler(BatchCommon):
    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self) -> None:
        batch = await preview(self.authenticator, self.db, self.runtime, self.actor_name,
                              self.uploaded())
        await self.show("partials/batch_preview.html", batch)


class BatchConfirmHandler(BatchCommon):
    """Creates the accounts (the gate asked for sudo mode when `grants` names a Docker-access
    group)."""

    @portal_authenticated
    @needs_scope("admin:users")
    @needs_scope("admin:groups")
    async def post(self, token: str) -> None:
        batch = await start(self.authenticator, self.db, self.runtime, token, self.actor_name,
                            self.get_body_argument("grants", ""))
        await self.show("partials/batch_progress.html", batch)


class BatchProgressHandler(BatchCommon):
    @portal_authenticated
    @needs_scope("admin:users")
    async def get(self, token: str) -> None:
        batch = self.runtime.batches.get(token, self.actor_name)
        if batch.finished:
            self.hx_trigger("portal:users-changed")
        await self.show("partials/batch_progress.html", batch)


class BatchCredentialsHandler(PortalHandler):
    """The credentials CSV, once (a POST: it is used up)."""

    @portal_authenticated
    @needs_scope("admin:users")
    async def post(self, token: str) -> None:
        text = self.runtime.batches.credentials(token, self.actor_name)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", 'attachment; filename="credentials.csv"')
        self.set_header("Cache-Control", "no-store")
        self.finish(text)


routes = [
    (r"/portal/admin/batch/preview", BatchPreviewHandler),
    (r"/portal/admin/batch/([A-Za-z0-9_-]+)/confirm", BatchConfirmHandler),
    (r"/portal/admin/batch/([A-Za-z0-9_-]+)", BatchProgressHandler),
    (r"/portal/admin/batch/([A-Za-z0-9_-]+)/credentials", BatchCredentialsHandler),
]
