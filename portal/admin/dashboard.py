"""Owns the admin dashboard's figures: counts, recent events, and what needs an admin's eye
(the Docker engine or a Swarm node down, little disk left, lab-hour quotas used up)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jupyterhub import orm

from ..access.names import BUILTIN_GROUPS
from ..audit.log import AuditEvent, AuditQuery
from ..governance.limits import human_size
from ..platform.errors import DockerUnavailable
from ..platform.hub_queries import group_members, running_server_count
from ..runtime import Runtime

RECENT_EVENTS = 8
LOW_DISK_FRACTION = 0.10  # free space below a tenth of the disk ...
LOW_DISK_BYTES = 2 * 1024**3  # ... or below 2 GiB: either one is a warning
NodesDown = Callable[[], Awaitable[list[str]]]  # the Swarm nodes not ready (raises if unknown)


@dataclass(frozen=True)
class Alert:
    about: str  # a short name: "docker", "swarm", "disk", "quota" (tests and styles)
    words: str  # a plain sentence for the admin
    slug: str = ""  # the admin page where it is dealt with ("": none)


@dataclass(frozen=True)
class Dashboard:
    users: int
    running: int
    pending_signups: int | None  # None: sign-up is off
    host_power: list[str]  # members of the Docker-access groups (root on the host)
    events: list[AuditEvent]
    alerts: list[Alert]


def disk_alert(path: str) -> Alert | None:
    """Little disk left where the hub keeps its data (on a thread: statvfs may block)."""
    try:
        usage = shutil.disk_usage(path)
    except OSError as e:
        return Alert("disk", f"The hub cannot read the free space of {path}: {e.strerror}.")
    if usage.free >= LOW_DISK_BYTES and usage.free >= usage.total * LOW_DISK_FRACTION:
        return None
    return Alert("disk", f"Little disk left for the hub's data ({path}): "
                         f"{human_size(usage.free)} free of {human_size(usage.total)}.")


async def _docker_alert(runtime: Runtime) -> Alert | None:
    try:
        await runtime.docker.ping()
    except DockerUnavailable as e:
        return Alert("docker", f"The Docker engine does not answer: {e}. Servers cannot "
                               "start or stop until it does.")
    return None


async def _swarm_alerts(nodes_down: NodesDown | None) -> list[Alert]:
    if nodes_down is None:
        return []
    try:
        down = await nodes_down()
    except DockerUnavailable as e:
        return [Alert("swarm", f"The Swarm manager does not answer: {e}.")]
    return [Alert("swarm", f"Swarm node {name} is down: its labs cannot start.") for name in down]


def _quota_alert(runtime: Runtime) -> Alert | None:
    used_up = sorted(runtime.quotas.used_up())
    if not used_up:
        return None
    shown = ", ".join(used_up[:5]) + (f" and {len(used_up) - 5} more" if len(used_up) > 5 else "")
    return Alert("quota", f"{len(used_up)} user{'' if len(used_up) == 1 else 's'} used up this "
                          f"month's lab hours and cannot start: {shown}.", "insights")


async def dashboard(db: Any, runtime: Runtime, pending_signups: int | None,
                    nodes_down: NodesDown | None = None) -> Dashboard:
    """Everything the dashboard shows: two queries of the hub's tables, one of the audit, a
    Docker ping (trusted for a few seconds), the disk on a thread."""
    members = group_members(db)
    power = sorted({name for group in BUILTIN_GROUPS for name in members.get(group, ())})
    events, docker, swarm, disk = await asyncio.gather(
        runtime.audit.events(AuditQuery(limit=RECENT_EVENTS)), _docker_alert(runtime),
        _swarm_alerts(nodes_down), asyncio.to_thread(disk_alert, runtime.settings.data_dir))
    alerts = [a for a in (docker, *swarm, disk, _quota_alert(runtime)) if a is not None]
    return Dashboard(users=db.query(orm.User).count(), running=running_server_count(db),
                     pending_signups=pending_signups, host_power=power, events=events,
                     alerts=alerts)
