"""portal.setup(c) extends the hub's configuration; it never replaces what was set before."""

from __future__ import annotations

from traitlets.config import Config

import portal
from portal.hub_setup import TEMPLATE_DIR
from portal.platform.settings import load_settings


def test_setup_keeps_earlier_settings_and_adds_the_portal(tmp_path):
    c = Config()
    csp = {"Content-Security-Policy": "frame-ancestors 'self'"}
    c.JupyterHub.tornado_settings = {"headers": csp}
    c.JupyterHub.template_paths = ["/srv/custom-templates"]
    c.JupyterHub.template_vars = {"announcement": "Hi"}
    c.JupyterHub.extra_handlers = [(r"/custom", object)]
    runtime = portal.setup(c, load_settings({"JUPYTERHUB_DATA_DIR": str(tmp_path)}))
    hub = c.JupyterHub
    assert hub.tornado_settings["headers"]["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert hub.tornado_settings["dshub_portal"] is runtime
    assert hub.template_paths[-1] == "/srv/custom-templates"
    assert hub.template_paths[0] == str(TEMPLATE_DIR)  # ours first: namespaced names
    assert hub.template_vars["announcement"] == "Hi" and "portal_static" in hub.template_vars
    assert hub.extra_handlers[0] == (r"/custom", object)
    assert any(route[0] == r"/portal/?" for route in hub.extra_handlers)
    assert hub.default_url == "/hub/portal"
