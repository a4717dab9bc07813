"""JSON endpoints for scripts: the same actions as the portal, with token authentication.

Token requests (`Authorization: token ...`) need no XSRF token; cookie requests still do (the
hub's APIHandler checks). Permissions are the same scopes as the portal's.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.scopes import needs_scope
from tornado import web

from .. import server_service as service
from ..compat.scopes import needs_action_scope


class PortalAPIHandler(APIHandler):
    @property
    def runtime(self):
        return self.settings["dshub_portal"]

    def target_user(self, user_name: str):
        user = self.find_user(user_name)
        if user is None:
            raise web.HTTPError(404, "No such user: %s", user_name)
        return user

    def json_body(self) -> dict[str, Any]:
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPError(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise web.HTTPError(400, "The request body must be a JSON object.")
        return body

    async def write_server(self, user, status: int = 200) -> None:
        view = await service.server_view(user, self.runtime)
        self.set_status(status)
        self.write({
            "user": view.user, "state": view.state, "detail": view.detail,
            "lab_url": view.lab_url, "docker_problem": view.docker_problem or None,
        })


class ServerStateAPI(PortalAPIHandler):
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        await self.write_server(self.target_user(user_name))


class ServerActionAPI(PortalAPIHandler):
    @needs_action_scope
    async def post(self, user_name: str, action: str) -> None:
        user = self.target_user(user_name)
        wait = action == "restart" and bool(self.json_body().get("wait", False))
        try:
            await service.act(
                action, user, self.runtime, spawn_fn=self.spawn_single_user,
                stop_fn=self.stop_single_user,
                public_url=service.loopback_url(self.proxy.public_url), wait=wait,
            )
        except service.ActionRefused as e:
            raise web.HTTPError(e.status, "%s", e.message) from None
        await self.write_server(user, 202 if action != "restart" else 200)


class VolumesAPI(PortalAPIHandler):
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        user = self.target_user(user_name)
        try:
            rows = await service.volume_rows(user, self.runtime)
        except service.DockerUnavailable as e:
            raise web.HTTPError(503, f"Docker cannot be reached: {e}") from None
        self.write({"volumes": [
            {**asdict(r.volume), "exists": r.exists, "size_bytes": r.size_bytes} for r in rows
        ]})


class VolumesResetAPI(PortalAPIHandler):
    @needs_scope("servers")
    async def post(self, user_name: str) -> None:
        user = self.target_user(user_name)
        body = self.json_body()
        keys = body.get("volumes")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise web.HTTPError(400, '"volumes" must be a list of volume keys.')
        try:
            service.choose_volumes(user, keys)
            if body.get("confirm") is not True:
                raise service.ActionRefused('Set "confirm": true: the data will be deleted.', 400)
            result = await service.reset_volumes(user, self.runtime, keys)
        except service.ActionRefused as e:
            raise web.HTTPError(e.status, "%s", e.message) from None
        self.write(asdict(result))


routes = [
    (r"/portal/api/users/([^/]+)/server", ServerStateAPI),
    (r"/portal/api/users/([^/]+)/server/(start|stop|restart|recreate)", ServerActionAPI),
    (r"/portal/api/users/([^/]+)/volumes", VolumesAPI),
    (r"/portal/api/users/([^/]+)/volumes/reset", VolumesResetAPI),
]
