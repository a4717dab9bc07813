"""Owns the user-name rule: one place for sign-up, account creation, the CLI and settings."""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 128  # NativeAuthenticator's users_info.username column
FORBIDDEN = ",/&?#%"
RULE = (f"1 to {MAX_LENGTH} characters, without spaces, control characters or any of "
        f"{' '.join(FORBIDDEN)}")
# For the form's `pattern` attribute (browsers compile it with the v flag: `/` is escaped).
HTML_PATTERN = r"[^\s,\/&?#%]{1,128}"
# Control, format (zero-width, bidi), surrogate, private-use and unassigned code points, and
# every kind of separator: none of them belongs in a name that ends up in URLs and logs.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}


def is_valid_username(name: str) -> bool:
    """True when `name` follows RULE."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_LENGTH:
        return False
    return not any(
        ch in FORBIDDEN or ch.isspace() or unicodedata.category(ch) in _REFUSED_CATEGORIES
        for ch in name
    )
