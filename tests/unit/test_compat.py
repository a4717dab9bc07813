"""portal.compat: the shims match the JupyterHub line installed, and do nothing on the other."""

from __future__ import annotations

import jupyterhub
from jupyterhub.handlers import BaseHandler
from nativeauthenticator.handlers import LocalBase, LoginHandler

from portal import compat
from portal.compat import nativeauth
from portal.compat.scopes import ACTION_SCOPES, START_SERVERS, START_SERVERS_DEFINED
from portal.operations.action_names import ServerAction

ON_6 = jupyterhub.version_info >= (6,)


def test_statsd_shim_only_where_jupyterhub_dropped_statsd():
    assert nativeauth.needed() == ON_6
    compat.apply()
    compat.apply()  # idempotent
    if ON_6:
        assert isinstance(vars(LocalBase)["statsd"], nativeauth.NullStatsd)
        assert not hasattr(BaseHandler, "statsd")  # the hub itself is left alone
    else:
        assert "statsd" not in vars(LocalBase)
        assert isinstance(vars(BaseHandler)["statsd"], property)


def test_null_statsd_accepts_what_nativeauthenticator_calls():
    # NativeAuthenticator 1.3.0's LoginHandler.post: timer(...).start(), then .stop(send=False).
    timer = nativeauth.NullStatsd().timer("login.authenticate").start()
    assert timer.stop(send=False) is timer and timer.ms == 0
    nativeauth.NullStatsd().incr("login.success")
    if ON_6:
        assert isinstance(LoginHandler.statsd, nativeauth.NullStatsd)


def test_action_scopes_exist_on_this_line():
    from jupyterhub.scopes import scope_definitions

    assert ("start:servers" if ON_6 else "servers") == START_SERVERS
    assert START_SERVERS_DEFINED is ON_6
    assert set(ACTION_SCOPES) == set(ServerAction) == {"start", "stop", "restart", "recreate",
                                                       "update"}
    assert all(scope in scope_definitions for scope in ACTION_SCOPES.values())
    assert {a: a.scope(ON_6) for a in ServerAction} == ACTION_SCOPES
