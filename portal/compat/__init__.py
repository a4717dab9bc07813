"""Owns the differences between the JupyterHub lines DS Hub supports (5.5.x and 6.x).

`apply()` is called once by `portal.setup(c)`; each module says what it papers over and when it
can go.
"""

from __future__ import annotations

from . import activity, cookie_lookup, nativeauth, spawner_init, users_init


def apply() -> None:
    """Install every shim this JupyterHub line needs (idempotent)."""
    nativeauth.apply()
    activity.apply()
    spawner_init.apply()
    users_init.apply()
    cookie_lookup.apply()
