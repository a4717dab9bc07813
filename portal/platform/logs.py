"""Owns the portal's logger: under the hub's own ("JupyterHub"), so lines reach the hub log.

They take the hub's level and format.
"""

from __future__ import annotations

import logging


def portal_logger(part: str = "") -> logging.Logger:
    return logging.getLogger("JupyterHub.portal" + (f".{part}" if part else ""))
