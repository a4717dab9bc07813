"""Owns the Docker layer's vocabulary: its exceptions, results and the socket-path rule."""

from __future__ import annotations

import json
from dataclasses import dataclass

from docker.errors import APIError

from .errors import DockerUnavailable

__all__ = ["DockerUnavailable"]

DOCKER_SOCKET = "/var/run/docker.sock"


def is_socket_path(path: str) -> bool:
    """Whether a host path names the engine's socket (/var/run links to /run everywhere)."""
    normalised = "/" + "/".join(p for p in path.split("/") if p)
    return normalised in (DOCKER_SOCKET, "/run/docker.sock")


class ContainerMissing(Exception):
    """No such container."""


class VolumeInUse(Exception):
    """Docker refused to remove a volume because a container uses it."""


class DockerRefused(Exception):
    """The engine answered but refused (unknown runtime, no such image, a failed pull, ...)."""


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    exists: bool
    size_bytes: int | None = None  # None: exists but Docker did not report a size


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    output: str  # stdout and stderr, tail


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    status: str  # Docker's word: running, exited, restarting, ...
    exit_code: int | None
    error: str
    privileged: bool = False
    docker_socket: bool = False
    oom_killed: bool = False
    memory: int = 0  # HostConfig.Memory in bytes; 0: no limit
    nano_cpus: int = 0  # HostConfig.NanoCpus; 0: no limit


def stream_error(text: str, key: str = "message") -> str:
    """The engine's JSON error text (`{"message": ...}` or a pull stream's `{"error": ...}`)."""
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    return str(data.get(key) or "") if isinstance(data, dict) else ""


def explain(error: Exception) -> str:
    if isinstance(error, APIError):
        return str(error.explanation or error)
    text = str(error) or type(error).__name__
    if "Connection refused" in text or "No such file" in text or "FileNotFoundError" in text:
        return "the Docker engine is not reachable"
    return text
