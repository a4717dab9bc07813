"""Owns the NativeAuthenticator 1.3.0 shim for JupyterHub 6: a no-op `statsd` on its handlers.

JupyterHub 6.0 removed statsd metrics, and with them `BaseHandler.statsd`. NativeAuthenticator
1.3.0 (its latest release) still times every sign-in with `self.statsd.timer(...)` in its
LoginHandler.post, so without this each sign-in POST is a 500 on JupyterHub 6. `apply()` gives
NativeAuthenticator's handler base class a `statsd` that does nothing, and only when the hub
has none (JupyterHub 5.5 keeps its own, untouched).

Nothing else in NativeAuthenticator needs help on 6.x (its templates extend `page.html`, whose
blocks did not change). Delete this module and its call in `portal.compat.apply()` once a
NativeAuthenticator release no longer uses `self.statsd`.
"""

from __future__ import annotations

from typing import Any

from jupyterhub.handlers import BaseHandler


class _NullTimer:
    """What `statsd.timer()` returns: start/stop do nothing, `ms` is 0."""

    ms = 0.0

    def start(self) -> _NullTimer:
        return self

    def stop(self, send: bool = True) -> _NullTimer:
        return self


class NullStatsd:
    """Accepts every statsd client call NativeAuthenticator might make, and drops it."""

    def timer(self, *args: Any, **kwargs: Any) -> _NullTimer:
        return _NullTimer()

    def __getattr__(self, name: str) -> Any:
        # incr, decr, gauge, timing, set: all no-ops.
        return lambda *args, **kwargs: None


def needed() -> bool:
    """True on a JupyterHub without `BaseHandler.statsd` (6.0 and later)."""
    return not hasattr(BaseHandler, "statsd")


def apply() -> bool:
    """Give NativeAuthenticator's handlers a no-op `statsd` if the hub lacks one; True if done."""
    if not needed():
        return False
    from nativeauthenticator.handlers import LocalBase

    if "statsd" not in vars(LocalBase):
        LocalBase.statsd = NullStatsd()
    return True
