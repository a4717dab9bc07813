"""Owns what portal.setup(c) gives the spawner as functions, so it never looks up the hub."""

from __future__ import annotations

from traitlets import Callable, HasTraits


class PortalHooks(HasTraits):
    """Mixed into PortalSpawner: each hook is None outside a hub set up by the portal."""

    # A function, not the service itself: traitlets deep-copies configured values per spawner.
    docker_engine = Callable(
        None, allow_none=True,
        help="f() -> the portal's DockerService: every Docker call of the spawner, DockerSpawner's "
        "own included, runs in its bounded pool. None: a private one (plain use, unit tests).",
    ).tag(config=True)

    start_guard = Callable(
        None, allow_none=True,
        help="f(user name) -> why the server may not start now, or None (e.g. a volume reset).",
    ).tag(config=True)
    gpu_decision = Callable(
        None, allow_none=True,
        help="async f() -> (request GPUs?, were they detected?): the hub-wide GPU decision.",
    ).tag(config=True)
    limits_policy = Callable(
        None, allow_none=True,
        help="async f(group names) -> Limits (memory bytes, CPUs; None: no limit) for a lab.",
    ).tag(config=True)
    exit_report = Callable(
        None, allow_none=True,
        help="f(user name, container inspect data): a lab container ended without the hub.",
    ).tag(config=True)
    server_changed = Callable(
        None, allow_none=True,
        help="f(spawner, ServerChange): the hub asked for a start or stop, or a poll found the "
        "lab gone (pushed updates; whoever asked: portal, hub admin page, REST API, culler).",
    ).tag(config=True)
    account_deleted = Callable(
        None, allow_none=True,
        help="async f(spawner): the user is being deleted; their volumes go (or are archived).",
    ).tag(config=True)

