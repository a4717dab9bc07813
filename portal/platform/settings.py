"""Owns the platform's environment variables: declared once, parsed once, validated.

Every variable has a default; a value outside what a variable accepts raises `SettingsError`
whose message is one line naming the variable, the value and what it accepts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from . import settings_parsers as parsers
from .settings_choices import GpuMode
from .settings_features import FeatureSettings
from .settings_mail import MailSettings
from .settings_schema import SettingsError, Variable, setting

SERVICE_PREFIX = "ENABLE_SERVICE_"


@dataclass(frozen=True)
class Settings(FeatureSettings, MailSettings):
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
        "port, held by the hub until the server stops.",
        parsers.network,
    )
    ssl: bool = setting(
        "ENABLE_JUPYTERHUB_SSL", "0",
        "0 or 1",
        "`1`: the hub itself serves HTTPS (no Traefik in front) with `certs/cert.pem` and "
        "`key.pem` in the data directory: yours, or self-signed ones generated at the first start.",
        parsers.flag,
    )
    gpu_mode: GpuMode = setting(
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
        env["ENABLE_GPU_SUPPORT"] = str(int(self.gpu_mode))
        env["NVIDIA_DETECTED"] = "1" if gpu_detected else "0"
        return env




VARIABLES: tuple[Variable, ...] = tuple(
    Variable(f.metadata["variable"][0], f.name, *f.metadata["variable"][1:])
    # The platform's own settings first, then the features' (inherited) ones.
    for f in sorted(fields(Settings), key=lambda f: f.name not in Settings.__annotations__)
    if "variable" in f.metadata
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


def settings_or_exit() -> Settings:
    """For command-line tools: the settings, or the one-line reason on stderr and exit 2."""
    try:
        return load_settings()
    except SettingsError as e:
        print(e, file=sys.stderr)
        raise SystemExit(2) from None


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

