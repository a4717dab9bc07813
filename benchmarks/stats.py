"""Percentiles, plain-text tables, and the check that a benchmark measured anything at all."""

from __future__ import annotations

import math
from collections.abc import Sequence, Sized
from typing import Any, TypeVar

S = TypeVar("S", Sized, int)


class Broken(RuntimeError):
    """The benchmark itself no longer works (it measured nothing, or not what it should):
    never raised for a slow figure."""


def measured(what: str, items: S, expected: int | None = None) -> S:
    """`items` (a collection or a count) back, if there is at least one (or exactly
    `expected`); else Broken.

    Every sample set a figure comes from goes through here, so a benchmark that silently finds
    nothing (0 cards, 0 probes answered) fails instead of printing an empty table."""
    n = items if isinstance(items, int) else len(items)
    if n == 0 or (expected is not None and n != expected):
        want = "at least 1" if expected is None else str(expected)
        raise Broken(f"{what}: {n} measured, expected {want}")
    return items


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary(ms: Sequence[float], what: str = "latencies") -> dict[str, Any]:
    """n, p50, p99, max of latencies in milliseconds (Broken when there are none)."""
    measured(what, ms)
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 50), 2),
        "p99_ms": round(pct(ms, 99), 2),
        "max_ms": round(max(ms), 2),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (readable as plain text too)."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return str(v)
