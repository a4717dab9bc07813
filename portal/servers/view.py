"""Owns the server card's view-model: the true state of a user's server and its wording."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ..docker.service import ContainerMissing
from ..governance.environments import Environment
from ..governance.lab_exits import card_sentence, exit_reason
from ..governance.limits import Limits
from ..governance.usage import LabUsage
from ..lab.server_names import named_oldest_first
from ..operations.in_flight import EXITED, server_key
from ..operations.states import OPERATION_CARDS, CardState
from ..platform.errors import DockerUnavailable
from ..platform.upstream import (
    HubSpawner,
    HubUser,
    hub_spawning,
    hub_stopping,
    spawn_error,
    spawn_failed,
)
from ..runtime import Runtime


@dataclass
class ServerView:
    user: str
    state: CardState
    detail: str = ""
    lab_url: str = ""
    since: float | None = None  # epoch seconds the current state began, when known
    docker_problem: str = ""
    # What changed since the container was created and applies when it is re-created, in
    # words ("Docker access", "limits").
    pending_changes: tuple[str, ...] = ()
    hub_active: bool = False  # the hub holds a server record (running, pending or failed)
    node: str = ""  # Swarm mode: the node holding the user's volumes (shown to admins)
    limits: Limits | None = None  # what the user's groups give now (the next start applies it)
    usage: LabUsage | None = None  # the last background sample, for a running server
    usage_stale: bool = False
    idle_stop_at: float | None = None  # epoch seconds an idle running server will be stopped
    keep_label: str = ""  # "8 more hours": what "Keep running" gives
    storage_warning: str = ""  # past the storage soft quota (portal/insights/quotas.py)
    environment: str = ""  # the environment it runs (or last ran); "": the configured image
    environments: tuple[Environment, ...] = ()  # those the user may choose (none: no choice)
    chosen: str = ""  # the one the card offers first: the last one, while still allowed
    image: str = ""  # running: the reference its container was created from (dshub-lab:latest)
    image_id: str = ""  # ... and that image's ID then
    newer_image: str = ""  # the ID the reference names now, when another ("": up to date)
    server: str = ""  # a named server's name ("": the default server)

    @property
    def busy(self) -> bool:
        return self.state.busy

    @property
    def can_start(self) -> bool:  # a failed server is started again from here too
        return self.state in (CardState.STOPPED, CardState.FAILED) and not self.docker_problem

    @property
    def can_stop(self) -> bool:
        return self.state in (CardState.RUNNING, CardState.FAILED) and self.hub_active

    @property
    def can_restart(self) -> bool:
        return self.state is CardState.RUNNING

    @property
    def can_recreate(self) -> bool:
        return self.state is CardState.RUNNING and bool(self.pending_changes)

    @property
    def can_update(self) -> bool:
        """"Re-create to update": its tag names a newer image than its container runs."""
        return self.state is CardState.RUNNING and bool(self.newer_image)

    @property
    def idle_stop_words(self) -> str:
        if self.idle_stop_at is None:
            return ""
        return datetime.fromtimestamp(self.idle_stop_at, UTC).strftime("%H:%M:%S UTC")

    @property
    def pending_sentence(self) -> str:
        return f"Your {' and '.join(self.pending_changes)} changed." if self.pending_changes else ""

    @property
    def switch_to(self) -> tuple[Environment, ...]:
        """The environments a running server may switch to (a re-creation, volumes kept)."""
        if self.state is not CardState.RUNNING:
            return ()
        return tuple(e for e in self.environments if e.name != self.environment)

    @property
    def can_reset(self) -> bool:
        return self.state in (CardState.STOPPED, CardState.FAILED) and not self.hub_active

    @property
    def can_delete(self) -> bool:
        """A stopped named server may be deleted (the default one never)."""
        return bool(self.server) and self.can_reset


def describe_failure(error: BaseException | None) -> str:
    """A spawn failure in plain words."""
    if error is None:
        return "The server failed to start."
    # Words meant for the user (a refused environment, lab/chosen_environment.py) as they are.
    text = getattr(error, "jupyterhub_message", None) or str(error) or type(error).__name__
    name = type(error).__name__
    if name == "ImageNotFound" or "No such image" in text:
        image = text.split("No such image:", 1)[-1].strip(' ")(') if "No such image" in text else ""
        return f"The lab image is not available on this host{f' ({image})' if image else ''}."
    if isinstance(error, TimeoutError) or "Timeout" in name or "timed out" in text.lower():
        return "The server did not come up in time. Try again, or ask an admin to check the logs."
    if "could not select device driver" in text or "nvidia" in text.lower():
        # Docker's own words (e.g. `could not select device driver "nvidia" with capabilities:
        # [[gpu]]` when the host has no NVIDIA runtime), without the request URL around them.
        why = getattr(error, "explanation", None) or text
        return f"The GPU could not be given to your server: {why}"
    return f"The server failed to start: {text}"


async def server_views(user: HubUser, runtime: Runtime) -> list[ServerView]:
    """Every server of the user, for the portal page: the default one first, then the named
    ones, oldest first."""
    return [await server_view(user, runtime, name)
            for name in ("", *named_oldest_first(user))]


async def server_view(user: HubUser, runtime: Runtime, server: str = "") -> ServerView:
    """The true state of one of a user's servers (`server`: a named one), for its card."""
    spawner = user.spawners[server] if server else user.spawner
    key = server_key(user.name, server)
    orm = spawner.orm_spawner
    started = orm.started.timestamp() if orm is not None and orm.started else None
    groups = [g.name for g in user.groups]
    # The environment it runs or last ran, kept in its state (portal/lab/chosen_environment.py).
    last = getattr(getattr(spawner, "chosen", None), "name", "")
    usable = tuple(await runtime.environments.usable_by(groups))
    names = [e.name for e in usable]
    chosen = last if last in names else (names[0] if names else "")
    # Limits: the running lab's environment's (none: the groups'), else the one offered first.
    limits = await runtime.environments.limits_of(last if spawner.active else chosen, groups)
    url = user.server_url(server) if server else user.url
    view = ServerView(user=user.name, state=CardState.STOPPED, lab_url=url,
                      hub_active=bool(spawner.active), node=spawner.location.node_title(),
                      limits=limits, environment=last, environments=usable, chosen=chosen,
                      server=server)
    op = runtime.operations.current(key)
    if op is not None:
        view.state, view.detail = OPERATION_CARDS[op.kind]
        view.since = time.time() - (time.monotonic() - op.started)
        return view
    if hub_spawning(spawner):
        view.state, view.since = CardState.STARTING, started
        view.detail = getattr(spawner, "phase", "") or "Starting your server"
        return view
    if hub_stopping(spawner):
        view.state, view.detail = CardState.STOPPING, "Stopping your server"
        return view
    last = runtime.operations.last(key)
    if spawner.ready:
        view.state, view.since = CardState.RUNNING, started
        if last is not None and not last.ok and last.kind != EXITED:
            view.detail = last.message
        await _running(view, user, spawner, runtime)
        return view
    if spawn_failed(spawner):
        view.state, view.detail = CardState.FAILED, describe_failure(spawn_error(spawner))
    elif last is not None and last.kind == EXITED:
        view.detail = last.message  # stopped, with the reason (out of memory, ...)
    elif last is not None and not last.ok:
        view.state, view.detail = CardState.FAILED, last.message
    try:
        await (await spawner.location.engine(runtime.docker)).ping()
    except DockerUnavailable as e:
        view.docker_problem = e.message
    return view


async def _running(view: ServerView, user: HubUser, spawner: HubSpawner,
                   runtime: Runtime) -> None:
    """A running server's usage, idle stop and container: each server's own (a named one's
    too); the storage warning weighs the user's volumes over all their servers."""
    view.usage = runtime.usage.get(user.name, view.server)
    view.usage_stale = view.usage is not None and runtime.usage.stale(view.usage)
    if view.usage is not None:
        view.storage_warning = await runtime.quotas.storage_warning(
            (g.name for g in user.groups), runtime.usage.user_volumes(user.name))
    view.idle_stop_at = runtime.culler.card_stop_at(user, view.server)
    view.keep_label = runtime.culler.keep_label() if view.idle_stop_at else ""
    await _check_container(view, spawner, runtime)


async def _check_container(view: ServerView, spawner: HubSpawner, runtime: Runtime) -> None:
    """A server the hub believes running: is its container really there, with which access?"""
    try:
        info = await spawner.location.container(runtime.docker)
    except ContainerMissing:
        view.state = CardState.FAILED
        view.detail = (
            "Your container was removed outside the hub. Start it again; your volumes are kept."
        )
        return
    except DockerUnavailable as e:
        view.docker_problem = e.message
        return
    # Group and limit changes apply at the next start; say so while the old ones are in force.
    changes = []
    if (info.docker_socket, info.privileged) != spawner.docker_access():
        changes.append("Docker access")
    limits = view.limits or Limits()
    if (info.memory, info.nano_cpus) != (limits.memory or 0, round((limits.cpus or 0) * 1e9)):
        changes.append("limits")
    view.pending_changes = tuple(changes)
    view.image, view.image_id = info.image, info.image_id
    if info.status == "running":
        try:
            engine = await spawner.location.engine(runtime.docker)
            view.newer_image = await runtime.images.newer(engine, info)
        except DockerUnavailable:
            pass  # only the notice is missing: the next render asks again
    else:
        view.state = CardState.FAILED
        if info.oom_killed:
            view.detail = card_sentence(exit_reason(True, info.exit_code, info.memory))
        else:
            view.detail = (
                f"Your container stopped outside the hub ({info.status}, exit code "
                f"{info.exit_code}). Start it again; your volumes are kept."
            )


async def start_log(user: HubUser, runtime: Runtime, server: str = "") -> tuple[str, str]:
    """(where it comes from, text): the server's output while it starts, or what it printed
    last (`server`: a named server, "" the default one).

    Bounded in size; the template escapes it (a lab's output is its user's text).
    """
    spawner = user.spawners[server] if server else user.spawner
    try:
        docker = await spawner.location.engine(runtime.docker)
        return "now", await docker.log_tail(spawner.object_name)
    except ContainerMissing:
        last = getattr(spawner, "last_log", "")
        return ("when the container was removed", last) if last else ("", "")
