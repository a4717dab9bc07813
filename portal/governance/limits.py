"""Owns lab resource limits: the defaults, per-group overrides (stored, audited) and the rule.

A group's override per resource is `None` (follow the default), `0` (explicitly no limit) or a
value. A member of several groups gets the highest value among their groups' overrides, and no
limit if any of them says so; with no override the default applies. The maximum of named
servers is kept alongside: `None` follows NAMED_SERVERS_MAX, a number (0: the default server
only) is the group's; a member gets the highest of their groups' numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jupyterhub import orm
from sqlalchemy import select

from ..audit.log import AuditLog, EventKind
from ..platform import settings_parsers as parsers
from ..platform.errors import ActionRefused
from ..store.database import PortalStore
from ..store.tables import GroupLimitRow

NO_LIMIT_WORDS = ("none", "no limit", "unlimited")


@dataclass(frozen=True)
class Limits:
    """What a lab gets; None means no limit."""

    memory: int | None = None  # bytes
    cpus: float | None = None

    def words(self) -> str:
        memory = f"{human_size(self.memory)} memory" if self.memory else "no memory limit"
        cpus = f"{self.cpus:g} CPU{'s' if self.cpus != 1 else ''}" if self.cpus else "no CPU limit"
        return f"{memory}, {cpus}"

    def as_json(self) -> dict[str, Any]:
        return {"memory_bytes": self.memory, "cpus": self.cpus}


@dataclass(frozen=True)
class GroupLimit:
    group: str
    memory: int | None = None  # None: the default; 0: no limit
    cpus: float | None = None
    servers: int | None = None  # named servers; None: the default, 0: the default server only

    def as_json(self) -> dict[str, Any]:
        def show(value: float | None) -> Any:
            return "default" if value is None else ("none" if value == 0 else value)

        return {"group": self.group, "memory_bytes": show(self.memory), "cpus": show(self.cpus),
                "named_servers": "default" if self.servers is None else self.servers}


def human_size(value: int | None) -> str:
    """Bytes in binary units, as Docker counts: 2147483648 -> '2 GiB'."""
    if value is None:
        return "?"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024:
            return f"{amount:.3g} {unit}" if unit != "B" else f"{int(amount)} B"
        amount /= 1024
    return f"{amount:.3g} TiB"


def _highest(values: list[float], default: float | None) -> float | None:
    if not values:
        return default
    return None if 0 in values else max(values)


def effective(default: Limits, overrides: Iterable[GroupLimit]) -> Limits:
    """The limits of a member of the groups whose overrides are given."""
    overrides = list(overrides)
    memory = _highest([o.memory for o in overrides if o.memory is not None], default.memory)
    cpus = _highest([o.cpus for o in overrides if o.cpus is not None], default.cpus)
    return Limits(int(memory) if memory else None, cpus or None)


def server_maximum(default: int, overrides: Iterable[GroupLimit]) -> int:
    """The named servers a member of these groups may have: their highest, else the default."""
    given = [o.servers for o in overrides if o.servers is not None]
    return max(given) if given else default


def parse_limit(raw: Any, parse: Any, kinds: tuple[type, ...], wrong_type: str,
                not_valid: str, words: Mapping[str, Any]) -> Any:
    """A limit from a form or JSON: None when absent, `words[w]` for a word such as "none"
    (what it means differs: a group's "default", an environment's "no default"), else parsed;
    a wrong type or text is a 400 with `wrong_type` or `not_valid` (formatted with the text)."""
    if raw is None:
        return None
    if isinstance(raw, str) and raw.strip().lower() in words:
        return words[raw.strip().lower()]
    if isinstance(raw, bool) or not isinstance(raw, kinds):
        raise ActionRefused(wrong_type, 400)
    try:
        return parse(str(raw))
    except ValueError:
        raise ActionRefused(not_valid.format(str(raw)[:40]), 400) from None


# A group's words: "default" (or nothing) keeps the hub's default, "none" is no limit (0).
GROUP_WORDS = {"": None, "default": None, **dict.fromkeys(NO_LIMIT_WORDS, 0)}


def parse_memory(raw: Any) -> int | None:
    """A group's memory: default / none / a size."""
    return parse_limit(
        raw, parsers.size, (str, int),
        "Memory must be a size such as 512M or 4G, 'none' or 'default'.",
        "Memory {!r} is not a size: write e.g. 512M or 4G (at least 64M), 'none' for no limit, "
        "or 'default'.", GROUP_WORDS)


def parse_cpus(raw: Any) -> float | None:
    """A group's CPUs: default / none / a number up to this host's CPU count."""
    return parse_limit(
        raw, parsers.cpus, (str, int, float),
        "CPUs must be a number such as 1.5, 'none' or 'default'.",
        f"CPUs {{!r}} is not valid: write a number from 0.01 to {parsers.host_cpus()} (this "
        "host's CPU count), 'none' or 'default'.", GROUP_WORDS)


def parse_servers(raw: Any) -> int | None:
    """A group's maximum of named servers: default, or a whole number from 0 to 100."""
    words = {"": None, "default": None, "none": 0}

    def whole(text: str) -> int:
        if not text.strip().isdigit() or int(text) > 100:
            raise ValueError(text)
        return int(text)

    return parse_limit(
        raw, whole, (str, int), "Named servers must be a whole number from 0 to 100 or 'default'.",
        "Named servers {!r} is not valid: write a whole number from 0 to 100 (0: the default "
        "server only) or 'default'.", words)


class LimitsService:
    """Overrides live in the portal's store and, for the spawner, in memory (loaded once)."""

    def __init__(self, store: PortalStore, audit: AuditLog, default: Limits,
                 default_servers: int = 0) -> None:
        self.store, self.audit, self.default = store, audit, default
        self.default_servers = default_servers  # NAMED_SERVERS_MAX
        self._groups: dict[str, GroupLimit] | None = None

    async def overrides(self) -> dict[str, GroupLimit]:
        if self._groups is None:
            def load() -> dict[str, GroupLimit]:
                with self.store.session() as db:
                    rows = db.scalars(select(GroupLimitRow))
                    return {r.group: GroupLimit(r.group, r.memory, r.cpus, r.servers)
                            for r in rows}

            self._groups = await self.store.run(load)
        return self._groups

    async def for_groups(self, groups: Iterable[str]) -> Limits:
        """The rule, for the spawner (at create time) and the card."""
        known = await self.overrides()
        return effective(self.default, (known[g] for g in groups if g in known))

    async def servers_for(self, groups: Iterable[str]) -> int:
        """How many named servers a member of these groups may have."""
        known = await self.overrides()
        return server_maximum(self.default_servers, (known[g] for g in groups if g in known))

    async def set_group(self, db: Any, actor: str, group: str, memory: Any,
                        cpus: Any, servers: Any = None) -> GroupLimit:
        """Set (all 'default': remove) a group's override; bad input changes nothing."""
        limit = GroupLimit(group, parse_memory(memory), parse_cpus(cpus), parse_servers(servers))
        if orm.Group.find(db, group) is None:
            raise ActionRefused(f"There is no group named {group[:80]!r}.", 404)
        known = await self.overrides()

        empty = limit == GroupLimit(group)
        await self.store.put_row(GroupLimitRow, group, None if empty else {
            "memory": limit.memory, "cpus": limit.cpus, "servers": limit.servers})
        before = known.get(group, GroupLimit(group))
        if empty:
            known.pop(group, None)
        else:
            known[group] = limit
        await self.audit.record(actor, EventKind.LIMIT_CHANGE, group,
                                f"{describe(before)} -> {describe(limit)}")
        return limit


def describe(limit: GroupLimit) -> str:
    def one(value: float | None, word: str, show: Any) -> str:
        return f"{word} default" if value is None else (
            f"{word} no limit" if value == 0 else f"{word} {show(value)}")

    servers = "" if limit.servers is None else f", named servers {limit.servers}"
    return (f"{one(limit.memory, 'memory', human_size)}, "
            f"{one(limit.cpus, 'CPUs', lambda v: f'{v:g}')}{servers}")
