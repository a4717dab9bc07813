"""Owns the parsers of environment values: each returns the typed value or raises ValueError."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from enum import Enum
from typing import TypeVar
from urllib.parse import quote, unquote, urlparse

from .settings_choices import DeletedUserVolumes, GpuMode

E = TypeVar("E", bound=Enum)


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError
        return raw

    return parse


def flag(raw: str) -> bool:
    return choice("0", "1")(raw) == "1"


def member(choices: type[E]) -> Callable[[str], E]:
    """The member whose value, written out, is exactly `raw` (`2`, `archive`; not ` 2`)."""
    by_text = {str(m.value): m for m in choices}

    def parse(raw: str) -> E:
        if raw not in by_text:
            raise ValueError
        return by_text[raw]

    return parse


def gpu_mode(raw: str) -> GpuMode:
    return member(GpuMode)(raw)


def deleted_user_volumes(raw: str) -> DeletedUserVolumes:
    return member(DeletedUserVolumes)(raw)


def log_level(raw: str) -> str:
    return choice("0", "1", "2", "3")(raw)




def username(raw: str) -> str:
    from .user_names import is_valid_username  # the rule sign-up applies too

    if not is_valid_username(raw):
        raise ValueError
    return raw


def count(low: int, high: int) -> Callable[[str], int]:
    """A whole number from `low` to `high`."""

    def parse(raw: str) -> int:
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError
        return int(raw)

    return parse


def nonempty(raw: str) -> str:
    if not raw.strip() or any(c.isspace() for c in raw):
        raise ValueError
    return raw


def base_url(raw: str) -> str:
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


def network(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", raw):
        raise ValueError
    return raw


def logo_uri(raw: str) -> str:
    # The content is checked (and reported) when the logo is loaded; here only the form.
    # Plain http:// is refused: the logo is on every page and must not change in transit.
    if raw and not raw.startswith(("https://", "file://", "data:")):
        raise ValueError
    return raw


def db_url(raw: str) -> str:
    """An SQLAlchemy URL; `postgresql://` / `postgres://` get the installed driver (psycopg 3)."""
    if raw and not re.match(r"^[a-z][a-z0-9+]*://", raw):
        raise ValueError
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", raw)


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
HOSTNAME_PATTERN = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def hostnames(raw: str) -> tuple[str, ...]:
    """`hub.example.org, 203.0.113.7` -> names for the generated TLS certificates."""
    names = tuple(n.strip().lower().rstrip(".") for n in raw.split(",") if n.strip())
    for name in names:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            if not HOSTNAME_PATTERN.fullmatch(name):
                raise ValueError from None
    return names


def path(raw: str) -> str:
    if not raw.startswith("/"):
        raise ValueError
    return raw.rstrip("/") or "/"


def optional_path(raw: str) -> str:
    return path(raw) if raw else ""


def whole_number(raw: str) -> int:
    """0, 1, 2, ... (no sign, no spaces)."""
    if not raw.isascii() or not raw.isdigit():
        raise ValueError
    return int(raw)


def origin(raw: str) -> str:
    """`https://hub.example.org[:port]` (a named host; no path) -> its normalised form, or ``.

    Users' labs become `<user>.<host>`: an IP address has no subdomains, so it is refused.
    """
    if not raw:
        return ""
    parsed = urlparse(raw.strip())
    try:
        port = parsed.port
    except ValueError:
        raise ValueError from None
    host = (parsed.hostname or "").rstrip(".")
    if (parsed.scheme not in ("http", "https") or parsed.path not in ("", "/") or parsed.query
            or parsed.fragment or parsed.username or parsed.password
            or not HOSTNAME_PATTERN.fullmatch(host) or host.replace(".", "").isdigit()):
        raise ValueError
    return f"{parsed.scheme}://{host}{f':{port}' if port else ''}"


def minutes(raw: str) -> int:
    if not raw.isdigit() or int(raw) > 1440:
        raise ValueError
    return int(raw)
# Sizes as Docker reads them: K, M, G and T are powers of 1024; a bare number is bytes.
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
MIN_MEMORY = 64 * 1024**2  # a lab needs more; Docker itself refuses below 6 MB


def size(raw: str) -> int:
    """`512M`, `4G`, `1.5g`, `2GiB` -> bytes (at least MIN_MEMORY)."""
    match = _SIZE.fullmatch(raw.strip())
    if not match:
        raise ValueError
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value < MIN_MEMORY:
        raise ValueError
    return value


def optional_size(raw: str) -> int | None:
    """Empty: no limit."""
    return size(raw) if raw.strip() else None


def host_cpus() -> int:
    return os.cpu_count() or 1


def cpus(raw: str) -> float:
    """`1.5` -> 1.5: more than 0, at most the host's CPU count, in hundredths (Docker's step)."""
    value = float(raw.strip())
    if not (0.01 <= value <= host_cpus()) or value != value:
        raise ValueError
    return round(value, 2)


def optional_cpus(raw: str) -> float | None:
    return cpus(raw) if raw.strip() else None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(raw: str) -> float:
    """`45s`, `30m`, `8h`, `1d` -> seconds; `0` is zero (off)."""
    text = raw.strip()
    if text == "0":
        return 0.0
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError
    return float(match.group(1)) * _SECONDS[match.group(2).lower()]


def names(raw: str) -> tuple[str, ...]:
    """`staff, teachers` -> ("staff", "teachers"); empty: none."""
    from .user_names import is_valid_username  # group names follow the user-name rule

    found = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if any(not is_valid_username(n) for n in found):
        raise ValueError
    return found


def at_least(low: float, parse: Callable[[str], float]) -> Callable[[str], float]:
    def bounded(raw: str) -> float:
        value = parse(raw)
        if value < low:
            raise ValueError
        return value

    return bounded


def docker_host(raw: str) -> str:
    if raw and not re.fullmatch(r"(unix|tcp|ssh|npipe)://\S+", raw):
        raise ValueError
    return raw
