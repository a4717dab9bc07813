"""Owns reading a Swarm lab's tasks: which one is current, its state and its container.

SwarmSpawner takes the task Swarm means to run, else any task of the service; after a restart
(a forced update) "any" can be the replaced one. Labs run with restart condition "none"
(portal/swarm/service.py), so a lab that ends stays ended, as a container does on one engine, and
its task's container stays on its node until the hub removes the service: that container's
State says whether the memory limit killed it.
"""

from __future__ import annotations

from typing import Any

Task = dict[str, Any]
STARTING = {"new", "pending", "assigned", "accepted", "preparing", "ready", "starting"}
ENDED = {"complete", "failed", "shutdown", "rejected", "orphaned"}  # the task's container ended


def current_task(tasks: list[Task]) -> Task | None:
    """The newest task Swarm means to run, else the newest task (a lab that ended)."""
    wanted = [t for t in tasks if t.get("DesiredState") == "running"] or tasks
    return max(wanted, key=_created) if wanted else None


def task_state(task: Task | None) -> str:
    return (((task or {}).get("Status") or {}).get("State") or "").lower()


def container_id(task: Task | None) -> str:
    status = (task or {}).get("Status") or {}
    return (status.get("ContainerStatus") or {}).get("ContainerID") or ""


def _created(task: Task) -> tuple[str, str]:
    # RFC 3339 with a trimmed fraction ("...05.1Z" is later than "...05.09Z"): pad it to compare.
    stamp = str(task.get("CreatedAt") or "").rstrip("Z")
    seconds, _, fraction = stamp.partition(".")
    return seconds, fraction.ljust(9, "0")
