"""One logger for the portal, under the hub's own ("JupyterHub"), so its lines reach the hub log
with the hub's level and format."""

from __future__ import annotations

import logging


def portal_logger(part: str = "") -> logging.Logger:
    return logging.getLogger("JupyterHub.portal" + (f".{part}" if part else ""))
