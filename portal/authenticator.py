"""Owns the hub's authenticator: NativeAuthenticator, plus the portal's REST overrides.

`Authenticator.get_handlers` is the one public way to put handlers AHEAD of the hub's own API
handlers (see portal/hub_overrides.py); everything else is NativeAuthenticator unchanged, and
`c.NativeAuthenticator.*` settings apply as before.
"""

from __future__ import annotations

from typing import Any

from nativeauthenticator import NativeAuthenticator

from .hub_overrides import handlers


class PortalAuthenticator(NativeAuthenticator):
    def get_handlers(self, app: Any) -> list[tuple]:
        return [*handlers, *super().get_handlers(app)]
