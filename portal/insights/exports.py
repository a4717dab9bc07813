"""Owns the reports' exports: rows as CSV (cells a spreadsheet would run made inert) or JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence


def as_csv(rows: Sequence[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if rows:
        fields = list(rows[0])
        writer.writerow(fields)
        for row in rows:
            writer.writerow(_inert("" if row[f] is None else str(row[f])) for f in fields)
    return out.getvalue()


def _inert(cell: str) -> str:
    # A group or user name such as "=cmd()" stays text in a spreadsheet.
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
