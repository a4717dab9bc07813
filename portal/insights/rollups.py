"""Owns the rollup arithmetic: usage samples folded into one record per lab and hour (or day).

Pure: times are epoch seconds handed in (a fake clock in tests), nothing here reads the clock,
the store or the hub. A sample covers the time since the same lab's previous sample, split
across the hours it spans, and only when that gap is short (at most `max_gap`): after a hub
restart, or a lab stopped and started again, the first sample covers nothing (its CPU figure
needs two samples anyway), so no hour is charged for time nobody measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

HOUR = 3600
DAY = 24 * HOUR
GIB = 2**30


@dataclass(frozen=True)
class Sample:
    """One usage sample of one lab, as the collector took it."""

    user: str
    at: float  # epoch seconds
    cpus: float | None  # CPUs busy since the lab's previous sample
    memory: int | None  # bytes in use
    memory_limit: int = 0  # bytes; 0: none
    volumes: dict[str, int | None] = field(default_factory=dict)  # volume key -> bytes
    gpu: bool = False  # the lab holds GPUs
    server: str = ""  # the server's name ("" is the default server)


@dataclass(frozen=True)
class Rollup:
    """What one lab used in one period: sums over the period, its peak, storage at its end."""

    lab_seconds: float = 0.0
    cpu_seconds: float = 0.0
    memory_gib_hours: float = 0.0
    memory_peak: int = 0  # bytes
    memory_limit: int = 0  # bytes, the highest seen in the period; 0: none
    storage: int | None = None  # bytes of the lab's volumes, at the last sample that had sizes
    volumes: dict[str, int] | None = None  # the same, per volume key
    gpu_seconds: float = 0.0
    samples: int = 0

    def merge(self, later: Rollup) -> Rollup:
        """This period's record plus `later`'s (the same period, measured after this one)."""
        return Rollup(
            lab_seconds=self.lab_seconds + later.lab_seconds,
            cpu_seconds=self.cpu_seconds + later.cpu_seconds,
            memory_gib_hours=self.memory_gib_hours + later.memory_gib_hours,
            memory_peak=max(self.memory_peak, later.memory_peak),
            memory_limit=max(self.memory_limit, later.memory_limit),
            storage=self.storage if later.storage is None else later.storage,
            volumes=self.volumes if later.volumes is None else later.volumes,
            gpu_seconds=self.gpu_seconds + later.gpu_seconds,
            samples=self.samples + later.samples,
        )


# (user, server, start of the period in epoch seconds)
Key = tuple[str, str, int]


def hour_of(at: float) -> int:
    return int(math.floor(at / HOUR)) * HOUR


def day_of(at: float) -> int:
    return int(math.floor(at / DAY)) * DAY


def week_of(at: float) -> int:
    """The start of the ISO week (Monday, UTC) holding `at` (1970-01-01 was a Thursday)."""
    day = day_of(at)
    return day - (day // DAY + 3) % 7 * DAY


def month_of(at: float) -> int:
    """The start of the UTC calendar month holding `at`."""
    when = datetime.fromtimestamp(at, UTC)
    return int(datetime(when.year, when.month, 1, tzinfo=UTC).timestamp())


def split_by_hour(start: float, end: float) -> list[tuple[int, float]]:
    """[(hour, seconds of [start, end) inside it)], in order; nothing when end <= start."""
    parts = []
    while end > start:
        hour = hour_of(start)
        upto = min(end, hour + HOUR)
        parts.append((hour, upto - start))
        start = upto
    return parts


def _storage(volumes: dict[str, int | None]) -> tuple[int | None, dict[str, int] | None]:
    known = {k: v for k, v in volumes.items() if v is not None}
    return (sum(known.values()), known) if known else (None, None)


class Rollups:
    """Samples folded into hourly records, held until `take()` hands them to the store."""

    def __init__(self, max_gap: float) -> None:
        self.max_gap = max_gap  # a longer gap between two samples of a lab is not counted
        self._last: dict[tuple[str, str], float] = {}  # lab -> time of its previous sample
        self._pending: dict[Key, Rollup] = {}

    def add(self, sample: Sample) -> tuple[float, float]:
        """Fold one sample in; returns the (lab seconds, CPU seconds) it counted."""
        lab = (sample.user, sample.server)
        previous = self._last.get(lab)
        if previous is not None and sample.at <= previous:
            return 0.0, 0.0  # the same sample again (a lab whose sampling failed keeps its last)
        self._last[lab] = sample.at
        covered_from = sample.at
        if previous is not None and sample.at - previous <= self.max_gap:
            covered_from = previous
        for hour, seconds in split_by_hour(covered_from, sample.at):
            self._fold((sample.user, sample.server, hour), Rollup(
                lab_seconds=seconds,
                cpu_seconds=(sample.cpus or 0.0) * seconds,
                memory_gib_hours=(sample.memory or 0) * seconds / GIB / HOUR,
                gpu_seconds=seconds if sample.gpu else 0.0,
            ))
        storage, volumes = _storage(sample.volumes)
        self._fold((sample.user, sample.server, hour_of(sample.at)), Rollup(
            memory_peak=sample.memory or 0, memory_limit=sample.memory_limit,
            storage=storage, volumes=volumes, samples=1,
        ))
        covered = sample.at - covered_from
        return covered, (sample.cpus or 0.0) * covered

    def _fold(self, key: Key, part: Rollup) -> None:
        held = self._pending.get(key)
        self._pending[key] = part if held is None else held.merge(part)

    def forget_idle(self, now: float) -> None:
        """Drop labs not sampled within `max_gap` (stopped): their next sample starts afresh."""
        for lab in [lab for lab, at in self._last.items() if now - at > self.max_gap]:
            del self._last[lab]

    def take(self) -> dict[Key, Rollup]:
        """The records gathered since the last call (for the store), and start again."""
        taken, self._pending = self._pending, {}
        return taken

    def give_back(self, records: dict[Key, Rollup]) -> None:
        """Records the store could not take: kept, merged before anything gathered since."""
        for key, record in records.items():
            newer = self._pending.get(key)
            self._pending[key] = record if newer is None else record.merge(newer)

    @property
    def pending(self) -> int:
        return len(self._pending)


def _folded(records: list[tuple[Key, Rollup]], start_of: Callable[[float], int]
            ) -> dict[Key, Rollup]:
    # In time order, so storage is the longer period's last.
    out: dict[Key, Rollup] = {}
    for (user, server, start), record in sorted(records, key=lambda item: item[0][2]):
        key = (user, server, start_of(start))
        held = out.get(key)
        out[key] = replace(record) if held is None else held.merge(record)
    return out


def by_day(hourly: list[tuple[Key, Rollup]]) -> dict[Key, Rollup]:
    """Hourly records folded into daily ones (storage is the day's last)."""
    return _folded(hourly, day_of)


def by_week(records: list[tuple[Key, Rollup]]) -> dict[Key, Rollup]:
    """Hourly or daily records folded into ISO weeks (from Monday, UTC)."""
    return _folded(records, week_of)


def by_month(records: list[tuple[Key, Rollup]]) -> dict[Key, Rollup]:
    """Hourly or daily records folded into calendar months (UTC; storage is the month's last)."""
    return _folded(records, month_of)
