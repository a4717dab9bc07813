"""Owns the user-name rule: one place for sign-up, account creation, the CLI and settings."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from typing import Any

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


def _strip_marks(text: str) -> str:
    # confusable_homoglyphs wraps right-to-left letters in LEFT-TO-RIGHT MARKs for display.
    return text.replace("\u200e", "")


@functools.cache
def _prototypes() -> dict[str, str]:
    """{code point: the string it is confusable with}, from Unicode's confusables.txt.

    confusable_homoglyphs ships that table as "character -> look-alikes", both ways: a source
    lists its prototype, a prototype its sources. Each prototype and its sources form one
    group; every member maps to one representative (the multi-letter prototype such as `rn`
    where there is one, else the smallest member), which is what TR39's skeleton needs.
    Loaded once, on first use (it is 9,000 entries; portal.platform.settings imports this module).
    """
    from confusable_homoglyphs.confusables import confusables_data

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for char, entries in confusables_data.items():
        for entry in entries:
            a, b = find(_strip_marks(char)), find(_strip_marks(entry["c"]))
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for member in list(parent):
        groups.setdefault(find(member), []).append(member)
    table = {}
    for members in groups.values():
        longer = sorted(m for m in members if len(m) > 1)
        representative = longer[0] if longer else min(members)
        table.update({m: representative for m in members if len(m) == 1})
    return table


def skeleton(name: str) -> str:
    """What `name` looks like: NFKC, case folded, then Unicode TR39's skeleton (NFD, each
    letter replaced by its confusable prototype, NFD again), until it no longer changes."""
    table = _prototypes()
    text = unicodedata.normalize("NFKC", name).casefold()
    for _ in range(4):  # a multi-letter prototype's letters may map again; converges fast
        mapped = unicodedata.normalize(
            "NFD", "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFD", text)))
        if mapped == text:
            break
        text = mapped
    return text


def look_alike(name: str, others: Iterable[str]) -> str | None:
    """The first of `others` that `name` could be mistaken for (same skeleton: equal but for
    case, NFKC normalisation or confusable letters), or None. `name` itself is skipped."""
    key = _cached_skeleton(name)
    return next((other for other in others
                 if other != name and _cached_skeleton(other) == key), None)


@functools.lru_cache(maxsize=65536)
def _cached_skeleton(name: str) -> str:
    # Every sign-up compares against every account: names are skeletonised once each.
    return skeleton(name)


def hub_user_names(db: Any) -> list[str]:
    """Every hub user's name (with or without a NativeAuthenticator row)."""
    from jupyterhub import orm

    return [n for (n,) in db.query(orm.User.name)]


def names_in_use(db: Any) -> list[str]:
    """Every hub user and every sign-up (pending or approved) in the hub's database."""
    from nativeauthenticator.orm import UserInfo

    return [*hub_user_names(db), *(n for (n,) in db.query(UserInfo.username))]


def name_clash(db: Any, username: str, admin_name: str) -> str | None:
    """Why a sign-up (or a new account) may not be called `username`, or None.

    A hub user without a password row (made through the REST API or the hub's admin page,
    maybe an admin or a docker-sock member) is an account too: a sign-up under its name would,
    once approved, hand it to whoever signed up. A name that only looks like one in use (case,
    NFKC, TR39 confusables: `\u0430dmin` with a Cyrillic a) would pass for it in every list.
    """
    from nativeauthenticator.orm import UserInfo

    in_use = names_in_use(db)
    if username == admin_name:
        # The hub makes a user for the configured admin at start; signing up as it needs the
        # setup code (the caller checks it): only a password row of that name makes it taken.
        taken = UserInfo.find(db, username) is not None
    else:
        taken = username in in_use
    if taken:
        return f"{username} is already an account here: please choose another user name."
    # The configured admin's name too, before that account exists (it needs the setup code).
    twin = look_alike(username, [*in_use, admin_name])
    if twin is not None:
        return (f"{username} looks like the existing account {twin} (letters of another "
                "alphabet, or another form of the same letters): please choose a user name "
                "that cannot be mistaken for it.")
    return None
