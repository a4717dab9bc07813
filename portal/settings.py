"""Owns the platform's environment variables: declared once, parsed once, validated.

Every variable has a default; a value outside what a variable accepts raises `SettingsError`
whose message is one line naming the variable, the value and what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from . import settings_parsers as parsers

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
    field: str  # the Settings attribute it fills
    default: str
    accepts: str
    effect: str
    parse: Callable[[str], Any]


def setting(name: str, default: str, accepts: str, effect: str,
            parse: Callable[[str], Any]) -> Any:
    """Declare a Settings field fed by environment variable `name` (parsed default included)."""
    return field(default=parse(default), metadata={"variable": (name, default, accepts, effect,
                                                                parse)})


@dataclass(frozen=True)
class Settings:
    """Typed view of the environment, and the one declaration of every variable.

    Each field names its variable, raw default, accepted values (for errors and the README) and
    effect. The README's configuration table is `markdown_table()`, and a test keeps the two
    equal. Build it with `load_settings()`.
    """

    admin: str = setting(
        "JUPYTERHUB_ADMIN", "admin",
        "a user name: 1 to 128 characters, no spaces, control characters or , / & ? # %",
        "This user is an admin; signing up under this name needs the one-time setup code the "
        "hub prints at start, and is then approved at once.",
        parsers.username,
    )
    base_url: str = setting(
        "JUPYTERHUB_BASE_URL", "/",
        "a URL path such as /, jupyterhub or /jupyterhub/",
        "Path the platform is served under; normalised to `/path/` (segments percent-encoded). "
        "With `compose.yml` write it as `/path` (Traefik's route rule needs that form).",
        parsers.base_url,
    )
    notebook_image: str = setting(
        "DOCKER_NOTEBOOK_IMAGE", "stellars/stellars-jupyterlab-ds:latest",
        "a Docker image reference",
        "Image of every user's JupyterLab (`make dev` uses `dshub-lab:latest`).",
        parsers.nonempty,
    )
    network_name: str = setting(
        "DOCKER_NETWORK_NAME", "jupyterhub_network",
        "a Docker network name, or host",
        "Network of the lab containers; `host` (dev/tests) gives each server its own loopback "
        "port.",
        parsers.network,
    )
    ssl: bool = setting(
        "ENABLE_JUPYTERHUB_SSL", "0",
        "0 or 1",
        "`1`: the hub itself serves HTTPS (no Traefik in front) with `certs/cert.pem` and "
        "`key.pem` in the data directory: yours, or self-signed ones generated at the first start.",
        parsers.flag,
    )
    gpu_mode: int = setting(
        "ENABLE_GPU_SUPPORT", "0",
        "0 (off), 1 (on) or 2 (detect)",
        "`1`: every lab requests all NVIDIA GPUs; `2`: a probe at hub start decides (see "
        "[GPU](#gpu)).",
        parsers.gpu_mode,
    )
    signup: bool = setting(
        "ENABLE_SIGNUP", "1",
        "0 or 1",
        "`1`: people sign up and wait for approval at `/hub/authorize`; `0`: no sign-up page, "
        "admins create accounts in the portal.",
        parsers.flag,
    )
    tf_log_level: str = setting(
        "TF_CPP_MIN_LOG_LEVEL", "3",
        "0, 1, 2 or 3",
        "TensorFlow log level inside the labs.",
        parsers.log_level,
    )
    gpu_probe_image: str = setting(
        "NVIDIA_AUTODETECT_IMAGE", "nvidia/cuda:12.9.1-base-ubuntu24.04",
        "a Docker image reference containing nvidia-smi",
        "Image of the GPU probe (`ENABLE_GPU_SUPPORT=2`); pulled if missing, within the probe's "
        "time bound.",
        parsers.nonempty,
    )
    logo_uri: str = setting(
        "JUPYTERHUB_CUSTOM_LOGO_URI", "",
        "empty, or an https://, file:// or data: URI",
        "Replaces the logo on every hub and portal page (PNG, JPEG, GIF, WebP, ICO or SVG, up to "
        "2 MiB; an SVG keeps only allow-listed drawing, see SECURITY.md). Read once at start "
        "(an https download has 15 s in all) and copied into the data directory; a URL whose "
        "host is down keeps the last copy. An unreadable file or malformed URI is logged at start "
        "(`JUPYTERHUB_CUSTOM_LOGO_URI=... cannot be used: ...`) and the stock logo stays.",
        parsers.logo_uri,
    )
    data_dir: str = setting(
        "JUPYTERHUB_DATA_DIR", "/data",
        "an absolute path",
        "Hub database, cookie secret and the portal's own store.",
        parsers.path,
    )
    portal_db_url: str = setting(
        "PORTAL_DATABASE_URL", "",
        "empty, or an SQLAlchemy database URL",
        "The portal's own store (broadcast history, group audit); empty: `portal.sqlite` in the "
        "data directory.",
        parsers.db_url,
    )
    hub_db_url: str = setting(
        "JUPYTERHUB_DATABASE_URL", "", "empty, or an SQLAlchemy database URL",
        "The hub's database (users, approvals, groups, tokens); empty: SQLite in the data "
        "directory. `postgresql://user:password@host:5432/db` uses PostgreSQL (see "
        "[docs/operations.md](docs/operations.md#postgresql)).",
        parsers.db_url,
    )
    hostnames: tuple[str, ...] = setting(
        "JUPYTERHUB_HOST", "",
        "empty, or host names / IP addresses separated by commas",
        "Names the generated self-signed certificates are valid for, besides `localhost`, the "
        "loopback addresses and the machine's own names.",
        parsers.hostnames,
    )
    audit_retention_days: int = setting(
        "AUDIT_RETENTION_DAYS", "365", "a whole number of days; 0 keeps every event",
        "How long the audit (Portal -> Admin -> Audit) keeps events; older ones are deleted "
        "hourly.",
        parsers.whole_number,
    )
    deleted_user_volumes: str = setting(
        "DELETED_USER_VOLUMES", "remove",
        "remove or archive",
        "What deleting an account does to its volumes: `remove` deletes them; `archive` keeps a "
        "copy, listed in the portal's admin area with Restore and Delete. Either way a new "
        "account of the same name starts empty.",
        parsers.choice("remove", "archive"),
    )
    subdomain_host: str = setting(
        "JUPYTERHUB_SUBDOMAIN_HOST", "",
        "empty, or the hub's public origin such as https://hub.example.org or "
        "http://localhost:8000 (a host name, no path)",
        "Serves each user's JupyterLab on an origin of its own, `<user>.<host>`, so code in a lab "
        "cannot act in the portal as an admin who opens it. Needs wildcard DNS and a certificate "
        "for `*.<host>` (the generated ones include it). `make dev` uses `http://localhost:8000`.",
        parsers.origin,
    )
    sudo_minutes: int = setting(
        "SUDO_MODE_MINUTES", "5",
        "a whole number of minutes, 0 to 1440",
        "Granting host power (adding to `docker-sock` / `docker-privileged`, making an admin, "
        "a token made with a browser session) asks for the admin's password again unless they "
        "confirmed it within this many minutes in the same session; `0`: every time.",
        parsers.minutes,
    )
    max_pending_signups: int = setting(
        "SIGNUP_MAX_PENDING", "50", "a whole number from 1 to 100000",
        "Sign-ups waiting for approval at most; further ones are refused until admins approve "
        "or reject some.",
        parsers.count(1, 100_000),
    )
    tls_proxy: bool = setting(
        "JUPYTERHUB_TLS_PROXY", "0", "0 or 1",
        "`1`: a TLS-terminating reverse proxy (compose.yml's Traefik, which sets it) is in front "
        "of the hub: cookies are Secure and sign-in throttling uses the client address that "
        "proxy reports.",
        parsers.flag,
    )
    lab_memory: int | None = setting(
        "LAB_MEMORY_LIMIT", "",
        "empty (no limit), or a size such as 512M, 4G or 1.5G (K, M, G, T: powers of 1024; "
        "at least 64M)",
        "Memory limit of every lab, without extra swap; groups may have their own (admin area, "
        "[Limits](#limits-usage-and-idle-culling)). Applies at each lab's next start.",
        parsers.optional_size,
    )
    lab_cpus: float | None = setting(
        "LAB_CPU_LIMIT", "",
        "empty (no limit), or a number of CPUs such as 1.5, at most the host's CPU count",
        "CPU limit of every lab (a quota: the lab may use this many CPUs' worth of time); "
        "groups may have their own. Applies at each lab's next start.",
        parsers.optional_cpus,
    )
    usage_interval: float = setting(
        "LAB_USAGE_INTERVAL", "30s",
        "a duration such as 15s or 1m (at least 5s)",
        "How often the hub samples CPU and memory of running labs (one Docker call per lab, "
        "a few at a time); volume sizes are sampled every tenth time.",
        parsers.at_least(5.0, parsers.duration),
    )
    idle_cull_after: float = setting(
        "IDLE_CULL_AFTER", "0",
        "0 (off), or a duration such as 45m, 8h or 2d",
        "Labs without activity for this long are stopped (kernels, terminals and browser "
        "traffic, as the hub tracks them). Admins can change it in the portal.",
        parsers.duration,
    )
    idle_cull_warning: float = setting(
        "IDLE_CULL_WARNING", "30m",
        "a duration such as 15m",
        "How long before an idle stop the user's JupyterLab shows a warning.",
        parsers.duration,
    )
    idle_keep_max: float = setting(
        "IDLE_CULL_KEEP_MAX", "8h",
        "a duration such as 4h",
        "The most \"Keep running\" on the card can postpone an idle stop (counted from the press).",
        parsers.duration,
    )
    idle_exempt_groups: tuple[str, ...] = setting(
        "IDLE_CULL_EXEMPT_GROUPS", "",
        "empty, or group names separated by commas",
        "Members of these groups are never stopped for being idle.",
        parsers.names,
    )
    services: dict[str, str] = field(default_factory=dict)  # every ENABLE_SERVICE_*

    @property
    def hub_database_url(self) -> str:
        return self.hub_db_url or f"sqlite:///{self.data_dir}/jupyterhub.sqlite"

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




VARIABLES: tuple[Variable, ...] = tuple(
    Variable(f.metadata["variable"][0], f.name, *f.metadata["variable"][1:])
    for f in fields(Settings) if "variable" in f.metadata
)


def _parse(var: Variable, raw: str) -> Any:
    try:
        return var.parse(raw)
    except ValueError:
        raise SettingsError(var.name, raw, var.accepts) from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every variable; raise `SettingsError` on the first bad one."""
    env = os.environ if environ is None else environ
    values = {v.field: _parse(v, env.get(v.name, v.default)) for v in VARIABLES}
    services = {}
    for name in sorted(env):
        if name.startswith(SERVICE_PREFIX) and len(name) > len(SERVICE_PREFIX):
            services[name] = "1" if _parse_service(name, env[name]) else "0"
    return Settings(**values, services=services)


def _parse_service(name: str, raw: str) -> bool:
    try:
        return parsers.flag(raw)
    except ValueError:
        raise SettingsError(name, raw, "0 or 1") from None


def markdown_table() -> str:
    """The README's configuration table, generated from the declarations above."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| Variable | Default | Accepted values | Effect |", "|---|---|---|---|"]
    for v in VARIABLES:
        default = f"`{v.default}`" if v.default else "(empty)"
        lines.append(f"| `{v.name}` | {default} | {cell(v.accepts)} | {cell(v.effect)} |")
    lines.append(f"| `{SERVICE_PREFIX}*` | (none) | 0 or 1 | Every such variable (MLflow, Glances, "
                 "TensorBoard, future ones) is passed to the labs. |")
    return "\n".join(lines) + "\n"

