"""The platform's environment variables, parsed once into typed, validated settings.

Every variable has a default; a value outside what a variable accepts raises `SettingsError`
whose message is one line naming the variable, the value and what it accepts.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

SERVICE_PREFIX = "ENABLE_SERVICE_"


class SettingsError(ValueError):
    """A variable holds a value it does not accept."""

    def __init__(self, name: str, value: str, accepts: str) -> None:
        super().__init__(f"{name}={value!r} is not valid: accepted values are {accepts}")
        self.name = name
        self.value = value


@dataclass(frozen=True)
class Variable:
    """One environment variable: its default, what it accepts, and what it does (for the docs)."""

    name: str
    default: str
    accepts: str
    effect: str
    parse: Callable[[str], Any]


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError
        return raw

    return parse


def _flag(raw: str) -> bool:
    return _choice("0", "1")(raw) == "1"


def _gpu_mode(raw: str) -> int:
    return int(_choice("0", "1", "2")(raw))


def _log_level(raw: str) -> str:
    return _choice("0", "1", "2", "3")(raw)


_USERNAME = re.compile(r"[^\s/&?#%]{1,255}")


def _username(raw: str) -> str:
    if not _USERNAME.fullmatch(raw):
        raise ValueError
    return raw


def _nonempty(raw: str) -> str:
    if not raw.strip() or any(c.isspace() for c in raw):
        raise ValueError
    return raw


def _base_url(raw: str) -> str:
    """Normalise `jupyterhub`, `/jupyterhub`, `/jupyterhub/` and `` to `/jupyterhub/` or `/`.

    Segments are percent-encoded (`ds hub` -> `/ds%20hub/`): that is the path browsers send,
    and the proxy's route API refuses raw spaces.
    """
    stripped = raw.strip().strip("/")
    if any(c in stripped for c in "?#\\") or "//" in stripped:
        raise ValueError
    safe = "-._~!$&'()*+,;=:@"
    encoded = "/".join(quote(unquote(part), safe=safe) for part in stripped.split("/"))
    return f"/{encoded}/" if stripped else "/"


def _network(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", raw):
        raise ValueError
    return raw


def _logo_uri(raw: str) -> str:
    # The content is checked (and reported) when the logo is loaded; here only the form.
    if raw and not raw.startswith(("https://", "http://", "file://", "data:")):
        raise ValueError
    return raw


def _db_url(raw: str) -> str:
    if raw and not re.match(r"^[a-z][a-z0-9+]*://", raw):
        raise ValueError
    return raw


_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def _hostnames(raw: str) -> tuple[str, ...]:
    """`hub.example.org, 203.0.113.7` -> names for the generated TLS certificates."""
    names = tuple(n.strip().lower().rstrip(".") for n in raw.split(",") if n.strip())
    for name in names:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            if not _HOSTNAME.fullmatch(name):
                raise ValueError from None
    return names


def _docker_host(raw: str) -> str:
    if raw and not re.fullmatch(r"(unix|tcp|ssh|npipe)://\S+", raw):
        raise ValueError
    return raw


def _path(raw: str) -> str:
    if not raw.startswith("/"):
        raise ValueError
    return raw.rstrip("/") or "/"


VARIABLES: tuple[Variable, ...] = (
    Variable("JUPYTERHUB_ADMIN", "admin", "a user name without spaces or / & ? # %",
             "This user is an admin and is authorized at sign-up without approval.", _username),
    Variable("JUPYTERHUB_BASE_URL", "/", "a URL path such as /, jupyterhub or /jupyterhub/",
             "Path the platform is served under (normalised to /path/).", _base_url),
    Variable("DOCKER_NOTEBOOK_IMAGE", "stellars/stellars-jupyterlab-ds:latest",
             "a Docker image reference", "Image every user's JupyterLab runs from.", _nonempty),
    Variable("DOCKER_NETWORK_NAME", "jupyterhub_network",
             "a Docker network name, or host",
             "Network of the lab containers; host gives each server its own loopback port.",
             _network),
    Variable("ENABLE_JUPYTERHUB_SSL", "0", "0 or 1",
             "1: the hub itself serves HTTPS (deployments without Traefik).", _flag),
    Variable("ENABLE_GPU_SUPPORT", "0", "0 (off), 1 (on) or 2 (detect)",
             "Give lab containers the NVIDIA GPUs; 2 probes for them once at hub start.",
             _gpu_mode),
    Variable("ENABLE_SIGNUP", "1", "0 or 1",
             "1: people sign up and wait for admin approval; 0: only admins create users.",
             _flag),
    Variable("TF_CPP_MIN_LOG_LEVEL", "3", "0, 1, 2 or 3",
             "TensorFlow log level inside the labs.", _log_level),
    Variable("NVIDIA_AUTODETECT_IMAGE", "nvidia/cuda:12.9.1-base-ubuntu24.04",
             "a Docker image reference containing nvidia-smi",
             "Image of the GPU detection probe (ENABLE_GPU_SUPPORT=2).", _nonempty),
    Variable("JUPYTERHUB_CUSTOM_LOGO_URI", "", "empty, or an http(s)://, file:// or data: URI",
             "Replaces the hub's logo on every page.", _logo_uri),
    Variable("JUPYTERHUB_DATA_DIR", "/data", "an absolute path",
             "Where the hub keeps its database, cookie secret and the portal's store.", _path),
    Variable("PORTAL_DATABASE_URL", "", "empty, or an SQLAlchemy database URL",
             "The portal's own store (broadcast history, group audit); empty: SQLite in the "
             "data directory.", _db_url),
    Variable("JUPYTERHUB_HOST", "", "empty, or host names / IP addresses separated by commas",
             "Names the generated self-signed TLS certificates are valid for (besides localhost "
             "and the machine's own names).", _hostnames),
    Variable("DOCKER_SWARM", "0", "0 or 1",
             "1: each lab is a Swarm service on a node of the swarm the hub's engine manages, "
             "pinned to the node holding the user's volumes (docs/scale-out.md).", _flag),
    Variable("DOCKER_HOST", "", "empty, or a unix://, tcp://, ssh:// or npipe:// URL",
             "The engine the hub talks to (read by docker-py); in Swarm mode a manager's. "
             "Empty: the local socket.", _docker_host),
)


@dataclass(frozen=True)
class Settings:
    """Typed view of the environment. Build it with `load_settings()`."""

    admin: str
    base_url: str
    notebook_image: str
    network_name: str
    ssl: bool
    gpu_mode: int
    signup: bool
    tf_log_level: str
    gpu_probe_image: str
    logo_uri: str
    data_dir: str
    portal_db_url: str
    hostnames: tuple[str, ...] = ()
    swarm: bool = False
    docker_host: str = ""
    services: dict[str, str] = field(default_factory=dict)

    @property
    def store_url(self) -> str:
        return self.portal_db_url or f"sqlite:///{self.data_dir}/portal.sqlite"

    @property
    def host_network(self) -> bool:
        return self.network_name == "host"

    def lab_environment(self, gpu_detected: bool = False) -> dict[str, str]:
        """What every lab container receives: service switches, TF log level, GPU flags."""
        env = dict(self.services)
        env["TF_CPP_MIN_LOG_LEVEL"] = self.tf_log_level
        env["ENABLE_GPU_SUPPORT"] = str(self.gpu_mode)
        env["NVIDIA_DETECTED"] = "1" if gpu_detected else "0"
        return env


_FIELDS = {
    "JUPYTERHUB_ADMIN": "admin",
    "JUPYTERHUB_BASE_URL": "base_url",
    "DOCKER_NOTEBOOK_IMAGE": "notebook_image",
    "DOCKER_NETWORK_NAME": "network_name",
    "ENABLE_JUPYTERHUB_SSL": "ssl",
    "ENABLE_GPU_SUPPORT": "gpu_mode",
    "ENABLE_SIGNUP": "signup",
    "TF_CPP_MIN_LOG_LEVEL": "tf_log_level",
    "NVIDIA_AUTODETECT_IMAGE": "gpu_probe_image",
    "JUPYTERHUB_CUSTOM_LOGO_URI": "logo_uri",
    "JUPYTERHUB_DATA_DIR": "data_dir",
    "PORTAL_DATABASE_URL": "portal_db_url",
    "JUPYTERHUB_HOST": "hostnames",
    "DOCKER_SWARM": "swarm",
    "DOCKER_HOST": "docker_host",
}


def _parse(var: Variable, raw: str) -> Any:
    try:
        return var.parse(raw)
    except ValueError:
        raise SettingsError(var.name, raw, var.accepts) from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every variable; raise `SettingsError` on the first bad one."""
    env = os.environ if environ is None else environ
    values = {_FIELDS[v.name]: _parse(v, env.get(v.name, v.default)) for v in VARIABLES}
    services = {}
    for name in sorted(env):
        if name.startswith(SERVICE_PREFIX) and len(name) > len(SERVICE_PREFIX):
            services[name] = "1" if _parse_service(name, env[name]) else "0"
    return Settings(**values, services=services)


def _parse_service(name: str, raw: str) -> bool:
    try:
        return _flag(raw)
    except ValueError:
        raise SettingsError(name, raw, "0 or 1") from None
