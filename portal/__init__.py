"""DS Hub portal: a self-service portal served inside JupyterHub at /hub/portal.

`setup(c)` is the single entry point the hub configuration calls.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from jupyterhub.utils import url_path_join

from . import broadcast, compat
from .access_groups import BUILTIN_GROUPS
from .docker_service import DockerService
from .gpu import start_detection
from .runtime import Runtime
from .settings import Settings, load_settings
from .startup import when_hub_runs
from .store import PortalStore

__version__ = "0.1.0"
HTMX_VERSION = "2.0.11"
TEMPLATE_DIR = Path(__file__).resolve().parent


def _routes() -> list[tuple]:
    from .views import admin, api, broadcast, gpu, groups, server, static, volumes

    return [*server.routes, *volumes.routes, *admin.routes, *groups.routes, *gpu.routes,
            *broadcast.routes, *api.routes, *static.routes]


def _configured(section: Any, name: str, empty: Any) -> Any:
    """A value the configuration already set (traitlets answers unset ones with a lazy stub)."""
    value = section.get(name, empty)
    return value if isinstance(value, type(empty)) else empty


async def _freeze_startup_objects(app: Any) -> None:
    gc.collect()
    gc.freeze()


def setup(c: Any, settings: Settings | None = None) -> Runtime:
    """Register the portal with the hub: routes, templates, static files, shared runtime."""
    settings = settings or load_settings()
    # Shims for the JupyterHub line in use (NativeAuthenticator on 6.x); see portal/compat/.
    compat.apply()
    runtime = Runtime(
        settings=settings, docker=DockerService(), store=PortalStore(settings.store_url)
    )
    # extra_handlers is deprecated upstream but is the only way to live under /hub/; keeping it
    # in this one function makes a later move to a hub service cheap.
    # Everything below extends what the configuration set before; it never replaces it.
    hub = c.JupyterHub
    hub.extra_handlers = [*_configured(hub, "extra_handlers", []), *_routes()]
    # Our templates are namespaced (pages/, partials/) so they never shadow the hub's own.
    hub.template_paths = [str(TEMPLATE_DIR), str(TEMPLATE_DIR / "hub"),
                          *_configured(hub, "template_paths", [])]
    hub.tornado_settings = {**_configured(hub, "tornado_settings", {}), "dshub_portal": runtime}
    hub.template_vars = {
        **_configured(hub, "template_vars", {}),
        "portal_version": __version__,
        "htmx_version": HTMX_VERSION,
        "portal_static": url_path_join(settings.base_url, "hub/portal/static"),
    }
    # Users land on the portal after signing in.
    c.JupyterHub.default_url = url_path_join(settings.base_url, "hub/portal")
    # The Docker-access groups exist from the first start and come back if deleted.
    c.JupyterHub.load_groups = {name: {"users": []} for name in BUILTIN_GROUPS}
    when_hub_runs(runtime.group_guard.run, "the Docker-access group guard")
    # Start-up objects (config, ORM, users) live as long as the hub: frozen, they are skipped by
    # full collections, whose pauses would otherwise stall the event loop (benchmarks).
    when_hub_runs(_freeze_startup_objects, "freezing start-up objects")
    # GPU: modes 0/1 are decided now; mode 2 probes once, only when a hub is really starting.
    start_detection(runtime)
    # Broadcast: one hub service with access:servers reaches every lab (appended, not assigned).
    runtime.broadcaster = broadcast.register(c, runtime.store)
    return runtime
