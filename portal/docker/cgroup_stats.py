"""Owns reading running containers' CPU and memory counters from the engine host's cgroup files:
the figures of Docker's one-shot stats, without a request to the engine per container.

Through the stats endpoint every lab costs a round trip each pass (the engine asks containerd,
which asks the lab's shim), so the usage sampler paces them, and 2,000 labs took 80 s a pass
(docs/benchmarks.md, section 15). Where the hub sees the host's cgroup tree (a hub on the
engine's host, or the compose hub with the tree mounted read-only) a container's counters are
three small files in its cgroup directory. Both cgroup versions and both of Docker's cgroup
drivers are recognised by where that directory is; a tree without it (another host, a custom
`--cgroup-parent`) answers None and the sampler keeps the stats endpoint.

The dictionaries returned have the shape of the endpoint's answer, the parts that
portal/governance/container_stats.py reads, so the arithmetic stays one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_TICKS_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
_UNLIMITED = 2**63 - 1  # cgroup v2 writes "max": what v1 reports as no limit


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _value(text: bytes, key: bytes) -> int:
    """One `key value` line's value (0 without it): memory.stat has dozens, one is read."""
    at = (b"\n" + text).find(b"\n" + key + b" ")  # where the key's line starts in `text`
    if at < 0:
        return 0
    end = text.find(b"\n", at)
    return int(text[at + len(key) + 1:end if end >= 0 else None])


def system_cpu_ns(proc_stat: str = "/proc/stat") -> int:
    """The host's CPU time so far, as Docker counts it (user to softirq on the `cpu` line)."""
    with open(proc_stat, encoding="ascii") as f:
        fields = f.readline().split()
    return sum(int(v) for v in fields[1:8]) * _TICKS_NS


# Where a container's cgroup is, below the tree or each v1 controller: Docker's cgroupfs driver,
# then its systemd driver.
LAYOUTS = ("docker/{}", "system.slice/docker-{}.scope")


class CgroupCounters:
    """`stats(container_id)`: the container's counters, or None when its directory is not in
    this tree (not running, or a layout this tree does not have). Plain string paths and no
    look before reading: at 2,000 labs a pass, pathlib and stat calls cost twice the reads."""

    def __init__(self, root: str | Path) -> None:
        self.root = str(root).rstrip("/")
        self.unified = os.path.exists(f"{self.root}/cgroup.controllers")  # cgroup v2
        self._layouts = LAYOUTS  # the one that found a container first

    def stats(self, container_id: str, system_ns: int, cpus: int) -> dict[str, Any] | None:
        read = self._v2 if self.unified else self._v1
        for layout in self._layouts:
            try:
                found = read(layout.format(container_id), system_ns, cpus)
            except (FileNotFoundError, ProcessLookupError):  # elsewhere, or removed meanwhile
                continue
            if layout != self._layouts[0]:
                self._layouts = (layout, *(x for x in LAYOUTS if x != layout))
            return found
        return None

    def _v2(self, where: str, system_ns: int, cpus: int) -> dict[str, Any]:
        where = f"{self.root}/{where}"
        limit = _read(f"{where}/memory.max").strip()
        return _answer(_value(_read(f"{where}/cpu.stat"), b"usage_usec") * 1000, system_ns, cpus,
                       int(_read(f"{where}/memory.current")),
                       _UNLIMITED if limit == b"max" else int(limit),
                       {"inactive_file": _value(_read(f"{where}/memory.stat"), b"inactive_file")})

    def _v1(self, where: str, system_ns: int, cpus: int) -> dict[str, Any]:
        memory, cpu = f"{self.root}/memory/{where}", f"{self.root}/cpuacct/{where}"
        return _answer(int(_read(f"{cpu}/cpuacct.usage")), system_ns, cpus,
                       int(_read(f"{memory}/memory.usage_in_bytes")),
                       int(_read(f"{memory}/memory.limit_in_bytes")),
                       {"total_inactive_file": _value(_read(f"{memory}/memory.stat"),
                                                      b"total_inactive_file")})


def _answer(cpu_ns: int, system_ns: int, cpus: int, usage: int, limit: int,
            detail: dict[str, int]) -> dict[str, Any]:
    return {"cpu_stats": {"cpu_usage": {"total_usage": cpu_ns}, "system_cpu_usage": system_ns,
                          "online_cpus": cpus},
            "memory_stats": {"usage": usage, "limit": limit, "stats": detail}}
