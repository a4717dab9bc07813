"""Owns the charts' geometry: bars in a box of known size, for SVG drawn by the templates
(partials/charts.html). No colours here: the SVG paints with `currentColor` and the theme's CSS
variables, so one drawing reads in the light and the dark theme.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 180  # the drawing's own units (it scales to its box)
LEFT, BOTTOM, TOP = 48, 22, 8  # room for the value axis, the labels below, the top tick
ROW = 22  # a row of a horizontal chart


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str  # the value as words (the bar's tooltip and accessible text)
    href: str | None = None


@dataclass(frozen=True)
class Chart:
    title: str
    width: float
    height: float
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...] = ()  # (y, text) of the value axis
    labels: tuple[tuple[float, str], ...] = ()  # (x, text) under the bars
    line: tuple[float, str] | None = None  # (y, text): a limit drawn across
    horizontal: bool = False


def nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n at or above `value` (an axis' top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def columns(title: str, points: Sequence[tuple[str, float]], fmt: Callable[[float], str],
            limit: float | None = None, every: int = 0) -> Chart:
    """Vertical bars over time; a label under every `every`-th bar (0: as many as fit)."""
    top = nice_top(max([v for _, v in points] + [limit or 0.0]))
    inner_w, inner_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = inner_w / max(len(points), 1)
    every = every or max(1, math.ceil(len(points) / 8))

    def y(value: float) -> float:
        return TOP + inner_h * (1 - value / top)

    bars = tuple(Bar(LEFT + i * slot + slot * 0.1, y(v), slot * 0.8, inner_h * v / top, label,
                     fmt(v)) for i, (label, v) in enumerate(points))
    ticks = tuple((y(top * f), fmt(top * f)) for f in (0, 0.5, 1))
    labels = tuple((LEFT + i * slot + slot / 2, label) for i, (label, _) in enumerate(points)
                   if i % every == 0)
    line = (y(limit), f"limit {fmt(limit)}") if limit else None
    return Chart(title, WIDTH, HEIGHT, bars, ticks, labels, line)


def ranking(title: str, rows: Sequence[tuple[str, float, str | None]],
            fmt: Callable[[float], str]) -> Chart:
    """Horizontal bars, largest first as given: (label, value, link) per row."""
    top = nice_top(max([v for _, v, _ in rows] + [0.0]))
    left, room = 160, WIDTH - 160 - 90  # names on the left, values on the right
    bars = tuple(Bar(left, i * ROW + 3, room * v / top, ROW - 6, label, fmt(v), href)
                 for i, (label, v, href) in enumerate(rows))
    return Chart(title, WIDTH, max(len(rows), 1) * ROW, bars, horizontal=True)
