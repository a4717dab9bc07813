"""Owns what portal.setup(c) hands the spawner: functions, so it never looks up the hub.

Each is a `c.PortalSpawner.<name>` setting, declared here and assigned in PortalSpawner's body;
each is None outside a hub set up by the portal (plain use, unit tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from traitlets import Callable


@dataclass(frozen=True)
class LabEnvironment:
    """What an environment gives one start (the ENVIRONMENT hook's answer): its image, its
    limits already capped by the user's groups, GPUs or not, extra variables."""

    name: str
    image: str
    memory: int | None = None  # bytes; None: no limit
    cpus: float | None = None
    gpu: bool = False
    variables: Mapping[str, str] = field(default_factory=dict)


def hook(help: str) -> Callable:
    """A function the portal gives the spawner. A function, not the service itself: traitlets
    deep-copies configured values per spawner, and the service must stay one per hub."""
    return Callable(None, allow_none=True, help=help).tag(config=True)


DOCKER_ENGINE = hook(
    "f() -> the portal's DockerService: every Docker call of the spawner, DockerSpawner's own "
    "included, runs in its bounded pool. None: a private one (plain use, unit tests).")
HOST_PORTS = hook(
    "f() -> the hub's HostPorts: the loopback ports its servers hold on the host network. None: "
    "a private one (plain use, unit tests).")
START_GUARD = hook(
    "f(user name) -> why the server may not start now, or None (e.g. a volume reset).")
GPU_DECISION = hook(
    "async f() -> (request GPUs?, were they detected?): the hub-wide GPU decision.")
LIMITS_POLICY = hook(
    "async f(group names) -> Limits (memory bytes, CPUs; None: no limit) for a lab.")
EXIT_REPORT = hook(
    "f(user name, container inspect data): a lab container ended without the hub.")
SERVER_CHANGED = hook(
    "f(spawner, ServerChange): the hub asked for a start or stop, or a poll found the lab gone "
    "(pushed updates; whoever asked: portal, hub admin page, REST API, culler).")
ACCOUNT_DELETED = hook(
    "async f(spawner): the user is being deleted; their volumes go (or are archived).")
ENVIRONMENT = hook(
    "async f(user options, group names) -> the LabEnvironment this start uses, or None: the "
    "configured image and the groups' limits (no environment defined, or none open to the "
    "user). Raises ActionRefused for an unknown or forbidden choice: nothing starts.")
ENVIRONMENT_CHOICES = hook(
    "async f(group names) -> [(name, description)]: the environments those groups may choose, "
    "which JupyterHub's own start page offers (spawn_form.py). None or empty: no form.")
