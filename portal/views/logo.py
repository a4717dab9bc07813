"""Owns {base_url}hub/logo: served under a policy that lets nothing in the file run or load.

Every page shows the logo with <img> (where SVG never runs script), but anyone can open the URL
itself as a document on the hub's origin. These headers make that document inert whatever the
file holds: no script, no frames, no requests except inline data: images and inline styles,
and a sandbox (an opaque origin without script) even for a browser that ignores the rest.
"""

from __future__ import annotations

from jupyterhub.handlers.static import LogoHandler

from ..platform.upstream import hub_logo_file

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


class InertLogoHandler(LogoHandler):
    def initialize(self) -> None:  # type: ignore[override]
        # Read at each request: a custom config may set logo_file after portal.setup(c).
        super().initialize(path=hub_logo_file())

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Content-Security-Policy", POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")


# Listed before the hub's own /logo route, so this one answers.
routes = [(r"/logo", InertLogoHandler)]
