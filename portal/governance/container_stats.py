"""Owns the arithmetic of Docker's one-shot container stats, as `docker stats` shows them:
memory in use without the page cache, CPUs busy between two samples, the memory limit."""

from __future__ import annotations

import os
from typing import Any


def memory_in_use(stats: dict[str, Any]) -> int | None:
    """Bytes in use, or None when Docker has not measured it yet (a container that just
    started answers with empty memory stats: that is not "0 B")."""
    memory = stats.get("memory_stats") or {}
    if memory.get("usage") is None:
        return None
    detail = memory.get("stats") or {}
    # What `docker stats` shows: usage without the page cache (cgroup v1: cache; v2: inactive).
    cache = detail.get("total_inactive_file", detail.get("inactive_file", detail.get("cache", 0)))
    return max(int(memory.get("usage") or 0) - int(cache or 0), 0)


def cpu_counters(stats: dict[str, Any]) -> tuple[int, int, int]:
    cpu = stats.get("cpu_stats") or {}
    usage = cpu.get("cpu_usage") or {}
    online = cpu.get("online_cpus") or len(usage.get("percpu_usage") or []) or 1
    return int(usage.get("total_usage") or 0), int(cpu.get("system_cpu_usage") or 0), online


def cpus_busy(before: tuple[int, int, int], after: tuple[int, int, int]) -> float | None:
    """CPUs busy between two samples, as `docker stats` computes it."""
    container, system = after[0] - before[0], after[1] - before[1]
    if system <= 0 or container < 0:
        return None
    return container / system * after[2]


def memory_limit(stats: dict[str, Any]) -> int:
    """Bytes; 0: no limit. Without a limit Docker reports the host's memory as the limit."""
    limit = int((stats.get("memory_stats") or {}).get("limit") or 0)
    return 0 if limit >= 2**60 or limit == _host_memory() else limit


def _host_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return -1
