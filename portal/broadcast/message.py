"""Owns what an admin may broadcast: message, type, auto-close and recipients, all checked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import regex

from ..platform.errors import ActionRefused

TYPES = ("default", "info", "success", "warning", "error", "in-progress")
MAX_GRAPHEMES = 140
# The extension's ingest body is small; anything far larger is refused before text processing.
MAX_RAW_LENGTH = 4 * 1024
AUTO_CLOSE_RANGE = (1, 600)  # seconds
DEFAULT_AUTO_CLOSE = 5  # seconds, the extension's own default
MAX_RECIPIENT_NAMES = 1000

_GRAPHEME = regex.compile(r"\X")
# Control characters other than newline and tab are never part of a message a person typed.
_CONTROL = regex.compile(r"[\p{Cc}--[\n\t]]", regex.V1)


def refused(message: str) -> ActionRefused:
    """Bad broadcast input: nothing is sent (400)."""
    return ActionRefused(message, 400)


def grapheme_count(text: str) -> int:
    """Characters as a person counts them: extended grapheme clusters (an emoji is one)."""
    return len(_GRAPHEME.findall(text))


def clean_message(raw: Any) -> str:
    if not isinstance(raw, str):
        raise refused("The message must be text.")
    if len(raw) > MAX_RAW_LENGTH:
        raise refused(f"The message is far too long; at most {MAX_GRAPHEMES} characters.")
    message = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not message:
        raise refused("Write a message: it cannot be empty or only spaces.")
    if _CONTROL.search(message):
        raise refused("The message contains control characters; use plain text.")
    count = grapheme_count(message)
    if count > MAX_GRAPHEMES:
        raise refused(
            f"The message has {count} characters; at most {MAX_GRAPHEMES} are allowed."
        )
    return message


def check_type(raw: Any) -> str:
    if raw not in TYPES:
        shown = repr(raw)[:40] if isinstance(raw, str) else type(raw).__name__
        raise refused(f"Unknown type {shown}: choose one of {', '.join(TYPES)}.")
    return raw


def check_auto_close(raw: Any) -> int | None:
    """Seconds until the notification closes itself; None: it stays until dismissed."""
    low, high = AUTO_CLOSE_RANGE
    problem = f"Auto-close must be never or a whole number of seconds from {low} to {high}."
    if raw is None or raw is False:
        return None
    if isinstance(raw, bool):
        raise refused(problem)
    if isinstance(raw, str):
        raw = raw.strip()
        if raw.lower() == "never":
            return None
        if not raw.isascii() or not raw.isdigit():
            raise refused(problem)
        raw = int(raw)
    if not isinstance(raw, int) or not low <= raw <= high:
        raise refused(problem)
    return raw


@dataclass(frozen=True)
class Recipients:
    mode: str = "all"  # all | users | groups
    names: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """How the store keeps it: {"all": true}, {"users": [...]} or {"groups": [...]}."""
        return {"all": True} if self.mode == "all" else {self.mode: list(self.names)}


def check_recipients(mode: Any, names: Iterable[Any] = ()) -> Recipients:
    if mode in (None, "", "all"):
        return Recipients()
    if mode not in ("users", "groups"):
        raise refused("Recipients must be all active servers, chosen users or groups.")
    wanted = [n.strip() for n in names if isinstance(n, str) and n.strip()]
    if not wanted:
        raise refused(f"Choose at least one {'user' if mode == 'users' else 'group'}.")
    if len(wanted) > MAX_RECIPIENT_NAMES:
        raise refused(f"At most {MAX_RECIPIENT_NAMES} names per broadcast.")
    return Recipients(mode, tuple(sorted(set(wanted))))


@dataclass(frozen=True)
class BroadcastRequest:
    message: str
    type: str
    auto_close: int | None  # seconds; None: never
    recipients: Recipients

    def payload(self) -> dict[str, Any]:
        """The notifications extension's ingest body (message, type, autoClose ms, immediate)."""
        return {
            "message": self.message,
            "type": self.type,
            "autoClose": False if self.auto_close is None else self.auto_close * 1000,
            # Pushed at once to open lab tabs; otherwise queued until the lab next polls.
            "immediate": True,
        }


def validate(message: Any, type_: Any = "info", auto_close: Any = DEFAULT_AUTO_CLOSE,
             recipients: Recipients | None = None) -> BroadcastRequest:
    """Every check before anything is sent; raises BroadcastRefused with a readable message."""
    return BroadcastRequest(
        message=clean_message(message),
        type=check_type(type_),
        auto_close=check_auto_close(auto_close),
        recipients=recipients or Recipients(),
    )
