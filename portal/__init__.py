"""Owns the package's entry point, `portal.setup(c)`, which the hub's configuration calls; it
hands over to portal/hub_setup.py, which registers the pages, actions and services.
This file stays light on purpose: `python -m portal.platform.healthcheck` (the image's health
check, every 15 s) and `dshub-setup-code` import the package first, and when it imported
JupyterHub each health check cost 1.9 CPU-seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .platform.settings import Settings
    from .runtime import Runtime


def setup(c: Any, settings: Settings | None = None) -> Runtime:
    """Register the portal with the hub configuration `c` (portal/hub_setup.py)."""
    from .hub_setup import setup as register

    return register(c, settings)
