"""Owns the portal's static files (vendored htmx, CSS, JS), cached hard when versioned."""

from __future__ import annotations

from pathlib import Path

from tornado import web

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class PortalStaticHandler(web.StaticFileHandler):
    def get_cache_time(self, path: str, modified: object, mime_type: str) -> int:
        # URLs carry ?v=<package version>, so a new release never meets a stale copy.
        return 365 * 24 * 3600 if self.get_argument("v", None) else 0


routes = [(r"/portal/static/(.*)", PortalStaticHandler, {"path": str(STATIC_DIR)})]
