"""Owns batches of accounts from a CSV as the hub holds them: the file read into rows, each row's
problems (a bad character, a name taken or confusable with one in use or earlier in the file, an
unknown group), and the batches waiting for confirmation or finished, with their credentials.

Checking is pure (it runs on a thread: every name in use is skeletonised). The credentials live
in memory only, for the admin who made the batch, and are forgotten once downloaded. Creating
the accounts is portal/admin/batch_accounts.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import unicodedata
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from ..platform.errors import ActionRefused
from ..platform.user_names import FORBIDDEN, RULE, is_valid_username, skeleton

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
KEEP_SECONDS = 3600.0  # previews and finished batches are forgotten after this
COLUMNS = ("name", "groups", "environment")
ENVIRONMENT_NOTE = ("The environment column is ignored: each user chooses an environment when "
                    "they start their server (the ones their groups may use).")


@dataclass
class BatchRow:
    line: int
    name: str
    groups: tuple[str, ...]
    problems: list[str] = field(default_factory=list)

    def spelled(self) -> str:
        """The name's code points when it is not plain ASCII (a look-alike shows as such)."""
        return "" if self.name.isascii() else ascii(self.name)


@dataclass
class Batch:
    token: str
    actor: str
    rows: list[BatchRow]
    notes: list[str]
    made: float
    # Once confirmed: progress, the credentials (name, passphrase), and the outcome.
    started: bool = False
    created: list[tuple[str, str]] = field(default_factory=list)
    finished: bool = False
    error: str = ""
    downloaded: bool = False

    @property
    def bad(self) -> list[BatchRow]:
        return [row for row in self.rows if row.problems]

    def groups(self) -> list[str]:
        return sorted({g for row in self.rows for g in row.groups})


def _cell_groups(cell: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(cell.replace(";", " ").split()))


def parse(text: str) -> tuple[list[BatchRow], list[str]]:
    """Rows (numbered by their line in the file) and notes; raises ActionRefused when the file
    itself cannot be used."""
    if len(text.encode()) > MAX_BYTES:
        raise ActionRefused(f"The file is larger than {MAX_BYTES // 1024} KiB.", 413)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if "name" not in header:
            raise ActionRefused("The first line must name the columns: name, groups (and "
                                "optionally environment).", 400)
        notes = [ENVIRONMENT_NOTE] if "environment" in header else []
        if extra := [h for h in header if h not in COLUMNS]:
            notes.append(f"Columns ignored: {', '.join(extra)[:200]}.")
        at = {name: header.index(name) for name in COLUMNS if name in header}
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ActionRefused(f"At most {MAX_ROWS} accounts in one file.", 413)
            cells = {column: values[i].strip() if i < len(values) else ""
                     for column, i in at.items()}
            rows.append(BatchRow(reader.line_num, cells.get("name", ""),
                                 _cell_groups(cells.get("groups", ""))))
    except csv.Error as error:
        raise ActionRefused(f"The file is not a CSV the hub can read: {error}.", 400) from None
    if not rows:
        raise ActionRefused("The file has no accounts in it.", 400)
    return rows, notes


def _bad_character(name: str) -> str:
    for ch in name:
        if ch in FORBIDDEN or ch.isspace() or unicodedata.category(ch)[0] in "CZ":
            return f"U+{ord(ch):04X}" if not ch.isprintable() or ch.isspace() else repr(ch)
    return ""


def check_rows(rows: list[BatchRow], in_use: list[str], groups: set[str]) -> None:
    """Write each row's problems into it."""
    existing = set(in_use)
    looks: dict[str, str] = {}
    for name in in_use:
        looks.setdefault(skeleton(name), name)
    seen: dict[str, BatchRow] = {}
    seen_looks: dict[str, BatchRow] = {}
    for row in rows:
        row.problems = []
        if not row.name:
            row.problems.append("no name")
        elif not is_valid_username(row.name):
            bad = _bad_character(row.name)
            row.problems.append(f"bad character {bad}: a user name has {RULE}" if bad
                                else f"a user name has {RULE}")
        else:
            key = skeleton(row.name)
            if row.name in existing:
                row.problems.append(f"{row.name} is already an account here")
            elif key in looks:
                row.problems.append(f"looks like the existing account {looks[key]}")
            if row.name in seen:
                row.problems.append(f"also on line {seen[row.name].line}")
            elif key in seen_looks:
                other = seen_looks[key]
                row.problems.append(f"looks like {other.name} on line {other.line}")
            seen.setdefault(row.name, row)
            seen_looks.setdefault(key, row)
        if unknown := [g for g in row.groups if g not in groups]:
            row.problems.append(f"unknown group{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(unknown)[:200]} (create it first)")


class AccountBatches:
    """Batches by token; all calls on the hub's one event loop."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._batches: dict[str, Batch] = {}
        self._tasks: set[asyncio.Task] = set()

    def add(self, batch: Batch) -> None:
        now = self.clock()
        self._batches = {t: b for t, b in self._batches.items()
                         if now - b.made < KEEP_SECONDS or (b.started and not b.finished)}
        self._batches[batch.token] = batch

    def get(self, token: str, actor: str) -> Batch:
        batch = self._batches.get(token)
        if batch is None or batch.actor != actor:
            raise ActionRefused("This batch is not known (it is an hour old, the hub "
                                "restarted, or another admin made it): upload the file again.",
                                404)
        return batch

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def credentials(self, token: str, actor: str) -> str:
        """The credentials CSV of a finished batch, once; then only the names are kept."""
        batch = self.get(token, actor)
        if not batch.finished:
            raise ActionRefused("The accounts are still being created.", 409)
        if batch.downloaded:
            raise ActionRefused("The credentials of this batch were downloaded already: they "
                                "are handed out once. Reset a password to give a new one.", 410)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["name", "password"])
        writer.writerows(batch.created)
        batch.downloaded = True
        batch.created = [(name, "") for name, _ in batch.created]
        return out.getvalue()
