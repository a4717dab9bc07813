"""Owns the usage history: the collector's samples rolled up in memory, written to the store.

Each usage pass hands its samples to `UsageHistory.observe` (on the event loop: arithmetic on a
few numbers per lab, no I/O). Every `flush_every` seconds, and once more when the hub stops, the
records gathered since the last write go to the store in one transaction on the store's thread,
added to the rows already there for the same hours: a rollup from before a hub restart is
merged with, never replaced by, the next hub's. A write that fails keeps its records in memory
for the next one. Each write adds to the hour's, the day's and the month's rows and sums
everyone's totals of that hour and day again (rollup_rows.py); once a day hourly rows older
than `hourly_days`, and all rows older than `keep_days` (0: never), are deleted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable

from ..governance.usage import LabUsage
from ..operations.in_flight import key_parts
from ..platform import metrics
from ..platform.logs import portal_logger
from ..store.database import PortalStore
from .rollup_rows import compact, write_hourly
from .rollups import DAY, Rollups, Sample

log = portal_logger("usage-history")


class UsageHistory:
    def __init__(self, store: PortalStore, interval: float, *, flush_every: float = 60.0,
                 hourly_days: int = 31, keep_days: int = 0,
                 gpus_held: Callable[[], bool] = lambda: False,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.interval, self.flush_every = store, interval, flush_every
        self.hourly_days, self.keep_days = hourly_days, keep_days
        self.gpus_held, self.clock = gpus_held, clock
        # Two missed samples still count as running; a longer gap is time nobody measured.
        self.rollups = Rollups(max_gap=2.5 * interval)
        self.flushes = 0
        self.rows_written = 0
        self._compacted_day: int | None = None

    def observe(self, samples: Iterable[tuple[str, LabUsage]]) -> None:
        """One usage pass's samples by server key (`user`, `user/name`): each server its own
        rows (a lab whose sampling failed repeats its last: skipped)."""
        gpu = self.gpus_held()
        lab_seconds = cpu_seconds = 0.0
        for key, usage in samples:
            user, server = key_parts(key)
            lab, cpu = self.rollups.add(Sample(
                user=user, at=usage.at, cpus=usage.cpus, memory=usage.memory,
                memory_limit=usage.memory_limit, volumes=dict(usage.volumes), gpu=gpu,
                server=server))
            lab_seconds, cpu_seconds = lab_seconds + lab, cpu_seconds + cpu
        self.rollups.forget_idle(self.clock())
        metrics.LAB_SECONDS.inc(lab_seconds)  # what the history counts, on /hub/metrics too
        metrics.LAB_CPU_SECONDS.inc(cpu_seconds)

    async def flush(self) -> int:
        """Write what was gathered since the last flush (one transaction); rows written."""
        records = self.rollups.take()
        if not records:
            return 0
        try:
            written = await self.store.run(write_hourly, self.store, records)
        except Exception:
            self.rollups.give_back(records)
            raise
        self.flushes += 1
        self.rows_written += written
        return written

    async def compact(self) -> tuple[int, int]:
        """Delete old hourly rows (their days keep them) and rows past retention."""
        return await self.store.run(compact, self.store, self.clock(), self.hourly_days,
                                    self.keep_days)

    async def run(self, after_write: Callable[[], Awaitable[None]] | None = None) -> None:
        """Forever: flush every `flush_every` s, compact once a day; flush once more at stop.
        `after_write` follows each pass (who has used up their lab hours: quotas.py)."""
        try:
            while True:
                await asyncio.sleep(self.flush_every)
                await self._pass()
                if after_write is not None:
                    await self._quietly(after_write)
        except asyncio.CancelledError:
            await self._final_flush()
            raise

    async def _pass(self) -> None:
        try:
            await self.flush()
            today = int(self.clock() // DAY)
            if self._compacted_day != today:
                hourly, deleted = await self.compact()
                self._compacted_day = today
                if hourly or deleted:
                    log.info("Usage history: %d old hourly rows (their days stay) and %d rows "
                             "past retention deleted", hourly, deleted)
        except Exception:
            log.exception("Usage history: could not write to the store; trying again")

    @staticmethod
    async def _quietly(work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except Exception:
            log.exception("Usage history: the work after a write failed")

    async def _final_flush(self) -> None:
        try:
            written = await self.flush()
            log.info("Usage history: %d rollups written at shutdown", written)
        except Exception:
            log.exception("Usage history: the rollups of the last minute could not be written")
