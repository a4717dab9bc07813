"""Owns the parsers of environment values: each returns the typed value or raises ValueError."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from urllib.parse import quote, unquote, urlparse


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError
        return raw

    return parse


def flag(raw: str) -> bool:
    return choice("0", "1")(raw) == "1"


def gpu_mode(raw: str) -> int:
    return int(choice("0", "1", "2")(raw))


def log_level(raw: str) -> str:
    return choice("0", "1", "2", "3")(raw)




def username(raw: str) -> str:
    from .auth.names import is_valid_username  # the rule sign-up applies too

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
    if raw and not re.match(r"^[a-z][a-z0-9+]*://", raw):
        raise ValueError
    return raw


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
