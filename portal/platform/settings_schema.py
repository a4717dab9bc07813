"""Owns how a setting is declared: its variable, default, accepted values, effect, parser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SECRETS = ("SMTP_PASSWORD", "TWO_FACTOR_KEY")


class SettingsError(ValueError):
    """A variable holds a value it does not accept."""

    def __init__(self, name: str, value: str, accepts: str) -> None:
        shown = "(hidden)" if name in SECRETS else repr(value)  # a near-miss may be the secret
        super().__init__(f"{name}={shown} is not valid: accepted values are {accepts}")
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
