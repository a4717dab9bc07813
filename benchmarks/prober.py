"""The responsiveness prober: GET /hub/health every 20 ms, never waiting for earlier answers.

It runs in its own process (benchmarks/child.py: own interpreter, own GIL), so the benchmark
driver's work never delays a probe. Every probe is its own task on a fresh connection, timed
from its first byte written; a hub that blocks its event loop shows up as probes lasting as
long as the block.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .child import Child
from .http import Connection
from .stats import measured, summary

PROBE_TIMEOUT = 30.0
INTERVAL = 0.020
# A quick run (CI) only shows that a benchmark still works, beside the tests: probing every
# 100 ms instead of 20 ms spares the two cores the probes and the hub's answers to them.
QUICK_INTERVAL = 0.100
_interval = INTERVAL


def quick_probes() -> None:
    """Probe every QUICK_INTERVAL from now on (a quick run: its figures are not kept)."""
    global _interval
    _interval = QUICK_INTERVAL


@dataclass
class Probe:
    at: float  # seconds since the prober started
    seconds: float  # latency; PROBE_TIMEOUT when it timed out
    ok: bool  # HTTP 200


async def probe_loop(host: str, port: int, path: str, interval: float, *,
                     stop: asyncio.Event, report: Callable[[Any], None]) -> list[list[float]]:
    """The prober process's work (benchmarks/child.py): probes until `stop`, then
    [[at, seconds, ok], ...] in order of sending."""
    probes: list[Probe] = []
    origin = time.perf_counter()

    async def one() -> None:
        conn = Connection(host, port, keep_alive=False)
        start = time.perf_counter()
        try:
            r = await asyncio.wait_for(conn.request("GET", path), PROBE_TIMEOUT)
            probes.append(Probe(start - origin, r.seconds, r.status == 200))
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            probes.append(Probe(start - origin, time.perf_counter() - start, False))
        finally:
            await conn.close()

    report("ready")
    await fire_every(interval, one, stop, PROBE_TIMEOUT + 1, origin)
    return [[p.at, p.seconds, p.ok] for p in sorted(probes, key=lambda p: p.at)]


async def fire_every(interval: float, one: Callable[[], Awaitable[None]], stop: asyncio.Event,
                     wait: float, origin: float) -> None:
    """Start `one()` every `interval` seconds from `origin` (perf_counter) until `stop`, never
    waiting for earlier ones, then up to `wait` seconds for those still running. A fixed
    schedule: a late tick does not push every later one back."""
    tasks: set[asyncio.Task] = set()
    n = 0
    while not stop.is_set():
        task = asyncio.ensure_future(one())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
        await asyncio.sleep(max(0.0, origin + n * interval - time.perf_counter()))
    if tasks:
        await asyncio.wait(tasks, timeout=wait)


class Prober:
    """`with Prober(host, port, path) as p: ...` then `p.summary()`."""

    def __init__(self, host: str, port: int, path: str, interval: float | None = None) -> None:
        self.args = (host, port, path, interval or _interval)
        self.probes: list[Probe] = []
        self.window = 0.0
        self.started_at = 0.0
        self._child = Child("benchmarks.prober:probe_loop", self.args, "prober")

    def __enter__(self) -> Prober:
        self._child.start()
        # The window starts with the first probe, not with the child's interpreter start-up.
        self._child.receive(30)
        self._t0 = time.perf_counter()
        self.started_at = time.time()  # epoch, to match the hub's log
        return self

    def __exit__(self, *exc: object) -> None:
        self.window = time.perf_counter() - self._t0
        self.probes = [Probe(*p) for p in self._child.finish(PROBE_TIMEOUT + 15) or []]

    def summary(self) -> dict[str, Any]:
        """Figures of the window; Broken if no probe got a 200 (wrong path, hub gone)."""
        measured(f"probes of {self.args[2]} answered with 200", [p for p in self.probes if p.ok])
        lat = [p.seconds * 1000 for p in self.probes]
        failed = sum(1 for p in self.probes if not p.ok)
        slowest = sorted(self.probes, key=lambda p: -p.seconds)[:3]
        return {**summary(lat), "failed": failed, "window_s": round(self.window, 2),
                # (seconds into the window, ms): when the worst stalls happened
                "slowest": [(round(p.at, 2), round(p.seconds * 1000, 1)) for p in slowest]}

