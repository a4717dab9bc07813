"""Owns `setup(c)`: the one place that registers the portal with the hub (routes, templates, hooks).

`portal.setup(c)` (the package's light entry point) hands over to `setup` here; it is the single
entry point the hub configuration calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyterhub.utils import url_path_join

from . import auth, compat
from .access.groups import BUILTIN_GROUPS
from .admin.dormant import run_auto_disable
from .broadcast import broadcaster as broadcast
from .compat.hub_indexes import add_lookup_indexes
from .compat.user_scopes import add_user_scopes
from .governance.environment_service import Environments
from .governance.limits import Limits
from .governance.running_labs import running_labs
from .lab.chosen_environment import apply_user_options
from .lab.hooks import LabEnvironment
from .lab.host_ports import HostPorts
from .lab.spawn_form import options_from_form, spawn_form
from .operations.states import ServerChange
from .platform.canonical_origin import redirect_rule
from .platform.heap import FreezePolicy
from .platform.metrics import watch_labs
from .platform.patient_proxy import PatientProxy
from .platform.settings import Settings, load_settings
from .platform.startup import when_hub_runs
from .platform.upstream import HubSpawner, route_first, serving_hub
from .runtime import Runtime
from .runtime_factory import build_runtime
from .servers.sharing import SHARING_SCOPES
from .swarm.view import SwarmView
from .views import hub_routes
from .volumes.account_volumes import dispose_of_volumes

__version__ = "0.1.0"
HTMX_VERSION = "2.0.11"
HTMX_SSE_VERSION = "2.2.4"
TEMPLATE_DIR = Path(__file__).resolve().parent


def _routes() -> list[tuple]:
    from .views import (
        account,
        admin,
        api,
        archive,
        audit,
        batch,
        broadcast,
        culling,
        dormant,
        environments,
        events,
        gpu,
        groups,
        images,
        insights,
        limits,
        logo,
        named_servers,
        named_servers_api,
        quotas,
        server,
        shares,
        signups,
        static,
        two_factor,
        usage,
        user_table,
        volumes,
    )

    # Each view module ends with its own route list; this is the one place they all meet.
    modules = (server, named_servers, shares, account, two_factor, volumes, admin, batch, dormant,
               groups, gpu, limits, environments, images, usage, insights, quotas, culling,
               broadcast, archive, audit, user_table, events, signups, api, named_servers_api,
               static, logo)
    return [route for module in modules for route in module.routes]


def _configured(section: Any, name: str, empty: Any) -> Any:
    """A value the configuration already set (traitlets answers unset ones with a lazy stub)."""
    value = section.get(name, empty)
    return value if isinstance(value, type(empty)) else empty


async def _freeze_startup_objects(app: Any) -> None:
    await FreezePolicy().run()


def _inject_into_spawner(c: Any, runtime: Runtime) -> SwarmView:
    """What the spawner asks the portal at every start, given as functions (never a lookup)."""

    def start_guard(user_name: str) -> str | None:
        return (runtime.operations.start_refusal(user_name)
                or runtime.quotas.start_refusal(user_name))

    async def gpu_decision() -> tuple[bool, bool]:
        return await runtime.gpu.decision()

    async def account_deleted(spawner: HubSpawner) -> None:
        # Per-lab broadcast tokens name the lab by user name: gone before anything else, so
        # a new account of that name is never opened with one the old account's lab received.
        await runtime.broadcaster.tokens.revoke(spawner.db, spawner.user.name)
        await dispose_of_volumes(spawner, runtime)

    async def limits_policy(groups: set[str]) -> Limits:
        return await runtime.limits.for_groups(groups)

    async def server_maximum(groups: set[str]) -> int:
        return await runtime.limits.servers_for(groups)

    async def choose_environment(options: dict, groups: set[str]) -> LabEnvironment | None:
        return await runtime.environments.for_start(options, groups)

    async def environment_choices(groups: set[str]) -> list[tuple[str, str]]:
        return [(e.name, e.description) for e in await runtime.environments.usable_by(groups)]

    def exit_report(user_name: str, container: dict) -> None:
        runtime.exits.report(user_name, container)

    def server_changed(spawner: HubSpawner, change: ServerChange) -> None:
        runtime.live.server_changed(spawner, change)

    # Every Docker call of the spawner, DockerSpawner's own included, goes through this one.
    c.PortalSpawner.docker_engine = lambda: runtime.docker
    # One of each per hub, shared by all its spawners: the loopback ports its labs hold, and
    # in Swarm mode its view of the swarm (labs being placed, node engines).
    ports, swarm = HostPorts(), runtime.swarm
    c.PortalSpawner.host_ports = lambda: ports
    c.PortalSwarmSpawner.swarm_view = lambda: swarm
    c.PortalSpawner.start_guard = start_guard
    c.PortalSpawner.gpu_decision = gpu_decision
    c.PortalSpawner.account_deleted = account_deleted
    c.PortalSpawner.limits_policy = limits_policy
    c.PortalSpawner.server_maximum = server_maximum
    c.PortalSpawner.exit_report = exit_report
    c.PortalSpawner.server_changed = server_changed
    c.PortalSpawner.choose_environment = choose_environment
    c.PortalSpawner.environment_choices = environment_choices
    if "apply_user_options" not in c.PortalSpawner:  # the environment is no unhandled option
        c.PortalSpawner.apply_user_options = apply_user_options
    if "options_form" not in c.PortalSpawner:  # /hub/spawn offers the environments
        c.PortalSpawner.options_form = spawn_form
        c.PortalSpawner.options_from_form = options_from_form
    return swarm


def setup(c: Any, settings: Settings | None = None) -> Runtime:
    """Register the portal with the hub: routes, templates, static files, shared runtime."""
    settings = settings or load_settings()
    # Shims for the JupyterHub line in use (NativeAuthenticator on 6.x); see portal/compat/.
    compat.apply()
    runtime = build_runtime(settings)
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
        "htmx_sse_version": HTMX_SSE_VERSION,
        "portal_static": url_path_join(settings.base_url, "hub/portal/static"),
    }
    # Sign-in and sign-up (setup code, throttling, approvals by POST), cookie flags, and the
    # hub REST overrides (protected groups, audited changes), which only the authenticator can
    # put ahead of the hub's own handlers (portal/auth, portal/views/hub_overrides.py).
    auth.configure(c, settings, runtime.audit, runtime.accounts, runtime.two_factor,
                   runtime.mail)
    # Named servers, up to a maximum per group (NAMED_SERVERS_MAX by default: 0, the default
    # server only), which the portal checks on every path (lab/server_names.py). The hub's own
    # named_server_limit_per_user stays 0 (no count of its own): its callable is asked about the
    # requesting user (an admin acting for someone counts as the admin), and its 0 means
    # "unlimited" where the portal's means "none".
    if "allow_named_servers" not in hub:
        hub.allow_named_servers = True
    if "proxy_class" not in hub:  # more than JupyterHub's 10 s to come up (patient_proxy.py)
        hub.proxy_class = PatientProxy
    # Users land on the portal after signing in.
    c.JupyterHub.default_url = url_path_join(settings.base_url, "hub/portal")
    # Users share their own servers (JupyterHub's shares) with users and groups they name.
    add_user_scopes(hub, SHARING_SCOPES)
    # The Docker-access groups exist from the first start and come back if deleted.
    c.JupyterHub.load_groups = {name: {"users": []} for name in BUILTIN_GROUPS}
    when_hub_runs(add_lookup_indexes, "indexes for the portal's lookups")
    when_hub_runs(runtime.group_guard.run, "the Docker-access group guard")
    when_hub_runs(runtime.accounts.load, "loading disabled accounts and password resets")
    when_hub_runs(runtime.two_factor.load, "loading two-factor sign-in")
    when_hub_runs(lambda app: run_auto_disable(app, runtime), "disabling dormant accounts")
    when_hub_runs(runtime.mail.run, "sending mail")
    when_hub_runs(runtime.emails.load, "loading email addresses")
    # Pushed updates: from events (the spawner's hook below, operations, the audit log), never
    # a scan of the loaded users (portal/operations/live_updates.py).
    runtime.audit.subscribe(runtime.live.audited)
    if settings.audit_retention_days:
        days = settings.audit_retention_days
        when_hub_runs(lambda app: runtime.audit.keep_only(days), "audit retention")
    # Start-up objects (config, ORM, users) live as long as the hub: frozen, full collections
    # skip them (their pauses stalled the loop); so are the survivors of each full collection;
    # from the event loop, never from a gc callback (portal/platform/heap.py).
    when_hub_runs(_freeze_startup_objects, "freezing start-up objects")
    # GPU: modes 0/1 are decided now; mode 2 probes once, only when a hub is really starting.
    runtime.gpu.start()
    swarm = _inject_into_spawner(c, runtime)

    async def add_initial_environments(app: Any) -> None:
        # Read from the app once it runs: a custom config file sets it after this setup(c).
        await runtime.environments.add_initial(app.db, Environments(parent=app).initial)

    when_hub_runs(add_initial_environments, "adding the configured environments")
    if settings.swarm:  # the admin dashboard warns of nodes that are down
        async def swarm_nodes() -> list[Any]:
            return await swarm.nodes()

        # A function, not the view: traitlets deep-copies configuration values, and the view
        # holds Docker pools (a function is copied as itself).
        hub.tornado_settings = {**hub.tornado_settings, "dshub_swarm_nodes": swarm_nodes}
    # The hub's own routes: the portal's replacements of its handlers (sign-in, sign-up,
    # passwords, audited REST calls, no password sign-in on the token API) and one gate for host
    # power in front of every route (views/hub_routes.py, access/host_power.py, views/gate.py).
    if (app := serving_hub()) is not None:
        hub_routes.install(app)

    async def collect_usage(app: Any) -> None:
        await runtime.usage.run(lambda: running_labs(app))

    when_hub_runs(collect_usage, "lab usage collection")
    watch_labs(lambda: runtime.usage.totals)  # /hub/metrics: the last pass (no Docker call)

    async def keep_usage_history(app: Any) -> None:
        # Flushes once more when the hub stops; after each write, who used up their lab hours.
        await runtime.history.run(lambda: runtime.quotas.refresh_from_hub(app.db))

    when_hub_runs(keep_usage_history, "usage history")
    when_hub_runs(runtime.storage_warnings.run, "storage quota warnings in the labs")
    if settings.subdomain_host:  # another name of the hub gets cookies its forms cannot use
        rule = redirect_rule(settings.subdomain_host, settings.base_url)

        async def redirect_stray_hosts(app: Any) -> None:
            route_first(app, *rule)

        when_hub_runs(redirect_stray_hosts, "redirecting other host names to the hub's origin")
    when_hub_runs(runtime.culler.run, "idle culling")
    # Broadcast: one hub service with access:servers reaches every lab (appended, not assigned).
    broadcast.register(c, runtime.broadcaster)
    return runtime
