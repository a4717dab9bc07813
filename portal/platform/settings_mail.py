"""Owns the mail settings (optional: mail is off while SMTP_HOST is empty).

Declared like the others (portal/platform/settings.py); `Settings` inherits these fields.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from cryptography.fernet import Fernet

from . import settings_parsers as parsers
from .settings_schema import setting


def text(raw: str) -> str:
    """Any text without control characters (names and passwords of accounts elsewhere)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise ValueError
    return raw


def optional_host(raw: str) -> str:
    """Empty, or a host name or IP address."""
    name = raw.strip().lower().rstrip(".")
    if not name:
        return ""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        if not parsers.HOSTNAME_PATTERN.fullmatch(name):
            raise ValueError from None
    return name


_ADDRESS = re.compile(r"[^@\s,<>\"]+@[^@\s,<>\"]+\.[^@\s,<>\"]+")


def optional_address(raw: str) -> str:
    address = raw.strip()
    if address and not _ADDRESS.fullmatch(address):
        raise ValueError
    return address


def addresses(raw: str) -> tuple[str, ...]:
    """`a@example.org, b@example.org` -> both; empty: none."""
    found = tuple(dict.fromkeys(a.strip() for a in raw.split(",") if a.strip()))
    if any(not _ADDRESS.fullmatch(a) for a in found):
        raise ValueError
    return found


def fernet_key(raw: str) -> str:
    """Empty, or a Fernet key: 32 bytes in URL-safe base64."""
    key = raw.strip()
    if key:
        Fernet(key.encode())  # ValueError otherwise
    return key


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str = setting(
        "SMTP_HOST", "", "empty (no mail), or a host name or IP address",
        "The mail server the hub sends through: admins hear of new sign-ups, users get a reset's "
        "temporary password and a warning before their dormant account is disabled. Empty: the "
        "hub sends no mail.",
        optional_host,
    )
    smtp_port: int = setting(
        "SMTP_PORT", "587", "a port number, 1 to 65535",
        "The mail server's port (587: submission with STARTTLS; 465: TLS from the start).",
        parsers.count(1, 65535),
    )
    smtp_security: str = setting(
        "SMTP_SECURITY", "starttls", "starttls, tls or none",
        "`starttls`: upgrade the connection (and refuse to send if the server cannot); `tls`: "
        "TLS from the start; `none`: plain (a relay on the same machine only).",
        parsers.choice("starttls", "tls", "none"),
    )
    smtp_user: str = setting(
        "SMTP_USER", "", "empty (no sign-in), or the mail account's name",
        "The account the hub signs in to the mail server with (with `SMTP_PASSWORD`).",
        text,
    )
    smtp_password: str = setting(
        "SMTP_PASSWORD", "", "empty, or the mail account's password",
        "Never logged; put it in `.env`, not in `compose.yml`.",
        text,
    )
    mail_from: str = setting(
        "MAIL_FROM", "", "empty, or an address such as ds-hub@example.org",
        "The sender of the hub's mail; empty: `SMTP_USER` if it is an address, else "
        "`ds-hub@` and the mail server's name.",
        optional_address,
    )
    admin_emails: tuple[str, ...] = setting(
        "ADMIN_EMAILS", "", "empty, or addresses separated by commas",
        "Who is mailed when someone signs up (and waits for approval).",
        addresses,
    )
    # Not mail, but the other secret of accounts kept beside it (SECURITY.md: key handling).
    two_factor_key: str = setting(
        "TWO_FACTOR_KEY", "", "empty, or a Fernet key (32 bytes in URL-safe base64)",
        "Encrypts two-factor secrets at rest. Empty: a key the hub makes once in the data "
        "directory (`two-factor.key`, mode 0600). Never logged; put it in `.env`. Changing it "
        "makes stored secrets unreadable: those accounts need an admin's Clear 2FA.",
        fernet_key,
    )
