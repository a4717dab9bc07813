"""Owns the portal's replacements of hub REST handlers on their own routes: no password sign-in
on the token API.

JupyterHub lets `POST /hub/api/users/<name>/tokens` sign in with `{"auth": {"username",
"password"}}` in the body: a password check with no session, outside the sign-in page's
throttle, answering every failure with a bare 403. DS Hub turns it off with a sentence saying
where to go instead (sign in, then make a token on the token page, or use a token); the rest of
that route is the hub's own. Sudo mode is not here: every route goes through the one gate
(portal/views/gate.py). The classes replace the hub's on the same routes (portal.upstream).
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from jupyterhub.apihandlers.users import UserTokenListAPIHandler
from jupyterhub.utils import url_path_join

from ..errors import ActionRefused
from .base import PortalCommon
from .refusals import RefusalResponses


async def finish(result: Any) -> None:
    """The hub's methods are sync or async; await the async ones."""
    if isawaitable(result):
        await result


class TokensWithoutPasswords(RefusalResponses, PortalCommon, UserTokenListAPIHandler):
    async def post(self, user_name: str) -> None:
        try:
            body = self.get_json_body()
        except Exception:  # the hub's own method answers a bad body with its usual 400
            body = None
        if isinstance(body, dict) and "auth" in body:
            await self.authenticator.passwords.pause()  # a guesser gets its answers slowly
            login = url_path_join(self.hub.base_url, "login")
            token_page = url_path_join(self.hub.base_url, "token")
            raise ActionRefused(
                "Password sign-in on the token API is off in DS Hub (it would check passwords "
                f"outside the sign-in throttle): sign in at {login} and make a token on "
                f"{token_page}, or send an API token in the Authorization header.", 403)
        await finish(super().post(user_name))


REPLACEMENTS: dict[type, type] = {UserTokenListAPIHandler: TokensWithoutPasswords}
