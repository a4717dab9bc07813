"""Owns the custom logo (JUPYTERHUB_CUSTOM_LOGO_URI): an https:// URL, a file:// path or data: URI.

The hub serves its logo at `{base_url}logo` from `c.JupyterHub.logo_file`, and every hub and
portal page shows that URL, so the logo is materialised once at start into the data directory
as `branding/logo.<type>` and `logo_file` points there. Downloading (rather than pointing
browsers at the URL) keeps users' browsers off third-party hosts and keeps the logo when that
host is down: a failed download falls back to the copy made from the same URL last time.

An SVG logo is rebuilt from an allow-list (portal/platform/svg_sanitiser.py) and, like every
logo, served with a policy under which nothing in it can run or load (portal/views/logo.py). Plain http://
is not accepted: the logo is shown on every page, so its bytes must not be changeable in transit.

Anything unusable (unreadable file, malformed URI, not an image, an SVG with a DTD) is
reported with one log line naming the variable, and the stock logo stays: a logo is not worth
refusing to start the hub for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from . import svg_sanitiser

VARIABLE = "JUPYTERHUB_CUSTOM_LOGO_URI"
MAX_BYTES = 2 * 1024 * 1024
FETCH_TIMEOUT = 15.0  # the whole download, not each read
READ_TIMEOUT = 5.0  # one connect or read
BRANDING_DIR = "branding"
_SOURCE_FILE = "source.sha256"  # which URI the saved logo came from

log = logging.getLogger(__name__)


class LogoError(Exception):
    """Why a logo URI cannot be used (a short, human-readable reason)."""


def sniff_image(data: bytes) -> str:
    """The file extension of an image by its first bytes; raise `LogoError` if not an image."""
    if not data:
        raise LogoError("it is empty")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"\x00\x00\x01\x00"):
        return "ico"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in head:
        return "svg"
    raise LogoError("it is not a PNG, JPEG, GIF, WebP, ICO or SVG image")


def sanitise_svg(data: bytes, logger: logging.Logger | None = None) -> bytes:
    """The SVG rebuilt from allow-listed drawing only; raise `LogoError` if it cannot be."""
    try:
        clean, dropped = svg_sanitiser.sanitise_svg(data)
    except svg_sanitiser.UnsafeSvg as e:
        raise LogoError(str(e)) from None
    if dropped:
        (logger or log).warning("%s: left out of the SVG logo (not on the allow-list): %s",
                                VARIABLE, ", ".join(sorted(dropped)))
    return clean


def _short(uri: str, limit: int = 80) -> str:
    return uri if len(uri) <= limit else f"{uri[:limit]}... ({len(uri)} characters)"


def _decode_data_uri(uri: str) -> bytes:
    # data:[<media type>][;base64],<data>  (RFC 2397)
    header, sep, payload = uri[len("data:"):].partition(",")
    if not sep:
        raise LogoError("the data: URI has no ',' before its data")
    params = [p.strip().lower() for p in header.split(";")]
    media = params[0] or "text/plain"
    if not re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", media):
        raise LogoError(f"the data: URI has a malformed media type {media!r}")
    if "base64" in params[1:]:
        try:
            return base64.b64decode("".join(unquote(payload).split()), validate=True)
        except (binascii.Error, ValueError):
            raise LogoError("the data: URI's base64 data is malformed") from None
    return unquote_to_bytes(payload)


def _read_file_uri(uri: str) -> bytes:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise LogoError(f"file:// URIs name a local path; {parts.netloc!r} is a host")
    path = Path(unquote(parts.path))
    if not path.is_absolute() or not parts.path:
        raise LogoError("file:// needs an absolute path, e.g. file:///srv/branding/logo.png")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise LogoError(f"the file {path} cannot be read ({e.strerror or e})") from None
    return data


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        if urlsplit(newurl).scheme.lower() != "https":
            raise LogoError(f"it redirects to a non-https URL ({_short(newurl)})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(uri: str, timeout: float) -> bytes:
    """Download within `timeout` seconds overall (a server that drips bytes is cut off)."""
    request = urllib.request.Request(uri, headers={"User-Agent": "DS-Hub-logo-fetch"})
    opener = urllib.request.build_opener(_HttpsOnlyRedirects)
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    try:
        # Runs while the hub loads its configuration, before it serves anyone.
        with opener.open(request, timeout=min(READ_TIMEOUT, timeout)) as response:
            while size <= MAX_BYTES:
                if time.monotonic() > deadline:
                    raise LogoError(f"downloading it took longer than {timeout:.0f} s")
                chunk = response.read1(65536)  # one read: returns what has arrived
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        return b"".join(chunks)
    except urllib.error.HTTPError as e:
        raise LogoError(f"downloading it answered HTTP {e.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise LogoError(f"downloading it failed ({reason})") from None


def load_logo(uri: str, timeout: float = FETCH_TIMEOUT,
              logger: logging.Logger | None = None) -> tuple[bytes, str]:
    """The logo's bytes and file extension; raise `LogoError` saying why it cannot be used."""
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme == "data":
        data = _decode_data_uri(uri)
    elif scheme == "file":
        data = _read_file_uri(uri)
    elif scheme == "https":
        if not urlsplit(uri).hostname:
            raise LogoError(f"the {scheme}:// URL has no host")
        data = _fetch(uri, timeout)
    elif scheme == "http":
        raise LogoError("plain http:// is not accepted (the logo could be changed in transit); "
                        "use https://, file:///path or data:image/...")
    else:
        raise LogoError("accepted forms are https://..., file:///path and data:image/...")
    if len(data) > MAX_BYTES:
        raise LogoError(f"it is larger than {MAX_BYTES // 1024 // 1024} MiB")
    ext = sniff_image(data)
    return (sanitise_svg(data, logger) if ext == "svg" else data), ext


def _cached(directory: Path, uri: str) -> Path | None:
    """The logo saved from exactly this URI at an earlier start, if any."""
    source = directory / _SOURCE_FILE
    try:
        if source.read_text().strip() != hashlib.sha256(uri.encode()).hexdigest():
            return None
    except OSError:
        return None
    return next(iter(sorted(directory.glob("logo.*"))), None)


def _save(directory: Path, uri: str, data: bytes, ext: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("logo.*"):
        old.unlink(missing_ok=True)
    path = directory / f"logo.{ext}"
    tmp = directory / f".logo.{ext}.tmp"
    tmp.write_bytes(data)
    tmp.replace(path)
    (directory / _SOURCE_FILE).write_text(hashlib.sha256(uri.encode()).hexdigest() + "\n")
    return path


def configure_logo(
    c: Any, uri: str, data_dir: str | Path, logger: logging.Logger | None = None,
    timeout: float = FETCH_TIMEOUT,
) -> Path | None:
    """Point `c.JupyterHub.logo_file` at the custom logo; log and keep the stock one on error."""
    logger = logger or log
    if not uri:
        return None
    directory = Path(data_dir) / BRANDING_DIR
    try:
        data, ext = load_logo(uri, timeout, logger)
        path = _save(directory, uri, data, ext)
    except LogoError as e:
        fallback = _cached(directory, uri) if uri.lower().startswith("https:") else None
        if fallback is None:
            logger.error("%s=%r cannot be used: %s; keeping the stock logo",
                         VARIABLE, _short(uri), e)
            return None
        logger.warning("%s=%r: %s; using the copy saved at an earlier start (%s)",
                       VARIABLE, _short(uri), e, fallback)
        path = fallback
    except OSError as e:
        logger.error("%s=%r cannot be saved in %s (%s); keeping the stock logo",
                     VARIABLE, _short(uri), directory, e)
        return None
    c.JupyterHub.logo_file = str(path)
    logger.info("Custom logo from %s=%r served as %s", VARIABLE, _short(uri), path)
    return path
