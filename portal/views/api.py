"""Owns the JSON API for scripts: the same actions as the portal, with token authentication.

Token requests (`Authorization: token ...`) need no XSRF token; cookie requests still do (the
hub's APIHandler checks). Permissions are the same scopes as the portal's; refusals answer
`{"status", "message"}` through views/refusals.py. `POST /portal/api/sudo` confirms the
session's password for actions that grant host power (portal/access/sudo.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.scopes import needs_scope

from ..compat.scopes import needs_action_scope
from ..governance.environments import options_from_body
from ..operations.action_names import ServerAction
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser, token_authenticated
from ..servers.actions import act
from ..servers.named import add_and_start, existing_server
from ..servers.view import ServerView, server_view
from ..volumes.service import reset_volumes, volume_rows
from .base import PortalCommon
from .refusals import RefusalResponses


class PortalAPIHandler(RefusalResponses, PortalCommon, APIHandler):
    def json_body(self) -> dict[str, Any]:
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            raise ActionRefused("The request body is not valid JSON.", 400) from None
        if not isinstance(body, dict):
            raise ActionRefused("The request body must be a JSON object.", 400)
        return body

    async def write_server(self, user: HubUser, status: int = 200, server: str = "") -> None:
        self.set_status(status)
        self.write(server_json(await server_view(user, self.runtime, server)))

    async def run_action(self, user: HubUser, action: ServerAction, server: str = "") -> None:
        """One action on the default server or the named `server`; answers with its state."""
        # Only a restart can be waited for ({"wait": true}); it answers 200, the others 202.
        restart = action is ServerAction.RESTART
        body = self.json_body()
        wait = restart and bool(body.get("wait", False))
        # Start and re-create take user options (the environment), as the hub's REST API does.
        options = options_from_body(body)
        if options is not None and not action.takes_user_options:
            raise ActionRefused(f"{action} takes no user_options: only start and recreate "
                                "choose an environment.", 400)
        hub = self.hub_actions(options, server=server)
        if server and action is ServerAction.START and server not in user.orm_spawners:
            await add_and_start(user, server, self.runtime, hub)  # the hub's POST does too
        else:
            if server:
                existing_server(user, server)
            await act(action, user, self.runtime, hub, wait=wait)
        await self.write_server(user, 200 if restart else 202, server)


def server_json(view: ServerView) -> dict[str, Any]:
    """One server as the JSON API answers it (`server`: "" for the default one)."""
    return {
        "user": view.user, "server": view.server, "state": str(view.state),
        "detail": view.detail, "lab_url": view.lab_url,
        "docker_problem": view.docker_problem or None,
        # The environment it runs or last ran, and those a start may choose.
        "environment": view.environment or None,
        "environments": [e.name for e in view.environments],
        # Running: the tag its container was created from, that image, and the newer one
        # the tag names now ("update" re-creates from it).
        "image": view.image or None, "image_id": view.image_id or None,
        "newer_image_id": view.newer_image or None,
    }


class SudoAPI(PortalAPIHandler):
    """POST {"password": ...} with a browser session: sudo mode for SUDO_MODE_MINUTES."""

    async def post(self) -> None:
        user = self.current_user
        if user is None or getattr(user, "kind", "user") != "user":
            raise ActionRefused("Sign in first: sudo mode confirms a user's own password.", 403)
        if token_authenticated(self):
            raise ActionRefused("API tokens need no sudo mode.", 400)
        password = self.json_body().get("password")
        if not isinstance(password, str) or not password:
            raise ActionRefused('Send {"password": "<your password>"}.', 400)
        await self.confirm_sudo(password)
        minutes = self.runtime.settings.sudo_minutes
        self.write({"confirmed": True, "minutes": minutes,
                    "message": f"Password confirmed for {minutes} minutes in this session."})


class ServerStateAPI(PortalAPIHandler):
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        await self.write_server(self.target_user(user_name))


class ServerActionAPI(PortalAPIHandler):
    @needs_action_scope
    async def post(self, user_name: str, action: ServerAction) -> None:
        await self.run_action(self.target_user(user_name), action)


class VolumesAPI(PortalAPIHandler):
    @needs_scope("read:servers")
    async def get(self, user_name: str) -> None:
        listing = await volume_rows(self.target_user(user_name), self.runtime)
        age = listing.sizes_age_s
        self.write({
            "volumes": [{**asdict(r.volume), "exists": r.exists, "size_bytes": r.size_bytes}
                        for r in listing.rows],
            # Sizes are measured at most once a minute for the whole hub: say how old they are.
            "sizes_age_s": None if age is None else round(age, 1),
            "sizes_measuring": listing.measuring,
        })


class VolumesResetAPI(PortalAPIHandler):
    @needs_scope("servers")
    async def post(self, user_name: str) -> None:
        user = self.target_user(user_name)
        body = self.json_body()
        keys = body.get("volumes")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ActionRefused('"volumes" must be a list of volume keys.', 400)
        result = await reset_volumes(
            user, self.runtime, keys, confirmed=body.get("confirm") is True,
            how_to_confirm='Set "confirm": true: the data will be deleted.', actor=self.actor_name,
        )
        self.write(asdict(result))


routes = [
    (r"/portal/api/sudo", SudoAPI),
    (r"/portal/api/users/([^/]+)/server", ServerStateAPI),
    (rf"/portal/api/users/([^/]+)/server/{ServerAction.route_group()}", ServerActionAPI),
    (r"/portal/api/users/([^/]+)/volumes", VolumesAPI),
    (r"/portal/api/users/([^/]+)/volumes/reset", VolumesResetAPI),
]
