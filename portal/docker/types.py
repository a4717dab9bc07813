"""Owns the Docker layer's vocabulary: its exceptions, results and the socket-path rule."""

from __future__ import annotations

import json
from dataclasses import dataclass

from docker.errors import APIError

from ..platform.errors import DockerUnavailable

__all__ = ["DockerUnavailable"]

DOCKER_SOCKET = "/var/run/docker.sock"


# Links every Linux host has into the runtime directory /run.
_RUN_ALIASES = (("/var/run", "/run"), ("/var/lock", "/run/lock"))


def host_path(path: str) -> str | None:
    """An absolute host path normalised (`.`, `//`, trailing `/`, /var/run -> /run); None when
    it has a `..`, which only the host's own symlinks could resolve (/var/run/.. is /)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    normalised = "/" + "/".join(parts)
    for alias, target in _RUN_ALIASES:
        if normalised == alias or normalised.startswith(alias + "/"):
            normalised = target + normalised[len(alias):]
    return normalised


def is_socket_path(path: str) -> bool:
    """Whether a host path names the engine's socket, however it is spelled."""
    return host_path(path) == "/run/docker.sock"


def is_engine_path(path: str) -> bool:
    """Whether a bind source reaches the engine: its socket, containerd's, anything else in the
    host's runtime directory /run (= /var/run), or a parent of it (`/`, `/var`). A source with
    `..` counts too. Volume names (no leading `/`) are not host paths."""
    if not path.startswith("/"):
        return False
    normalised = host_path(path)
    if normalised is None:
        return True
    return normalised in ("/", "/var", "/run") or normalised.startswith("/run/")


class ContainerMissing(Exception):
    """No such container."""


class VolumeInUse(Exception):
    """Docker refused to remove a volume because a container uses it."""


class DockerRefused(Exception):
    """The engine answered but refused (unknown runtime, no such image, a failed pull, ...)."""


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
    image_id: str = ""  # the image it was created from ("sha256:..."): a re-tag moves no container
    image: str = ""  # the reference it was created from (Config.Image), e.g. dshub-lab:latest


@dataclass(frozen=True)
class ImageInfo:
    id: str  # "sha256:..."
    tags: tuple[str, ...]  # RepoTags; () once every tag moved to another image
    created: float  # epoch seconds the image was built
    size: int  # bytes


@dataclass(frozen=True)
class RunningContainer:
    """One running container as the engine lists it: its names, image ID and, for a Swarm
    task, its service's name."""

    names: tuple[str, ...]
    image_id: str
    service: str = ""


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
