"""The hub part of benchmarks/usage_history.py: a real hub whose portal store is a copy of the
seeded year, /hub/health probed while an admin opens the Insights page for that year.

Each hub gets its own copy of the seeded store: the code at `--before` as the release before
left it, this checkout's as its upgrade made it (timed by usage_history.py, not here: a sign-up
waiting on the store's first use would time out). The first page (cold caches) is timed
apart; then the prober runs for a few seconds with no page open, then while the admin opens the
page `--rounds` times, one after another. Last, both hubs' exports of the year are compared:
the same rows, or the benchmark says which differ.
"""

from __future__ import annotations

import argparse
import shutil
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.support.clients import Portal

from .common import bench_hub, code_at, settle, short_rev
from .prober import Prober
from .stats import measured, summary, table

TABLES = ("users", "groups", "daily", "timeline")
IDLE_SECONDS = 5.0


def on_hub(args: argparse.Namespace, store: Path, code: Path | None,
           year: dict[str, str]) -> dict[str, Any]:
    """One hub on `store`: first page, /hub/health idle and during the pages, the exports."""
    out: dict[str, Any] = {}
    with bench_hub(env={"PORTAL_DATABASE_URL": f"sqlite:///{store}"}, code=code) as hub:
        admin = Portal(hub, "admin")
        page = f"portal/admin/insights?{urlencode(year)}"

        def open_page() -> float:
            t0 = time.perf_counter()
            r = admin.get(page, htmx=False)
            assert r.status_code == 200 and "insights-users" in r.text, r.text[:300]
            return (time.perf_counter() - t0) * 1000

        out["first_page_ms"] = round(open_page(), 1)
        settle(args, 3)
        with Prober("127.0.0.1", hub.ports["hub"], "/hub/health") as idle:
            time.sleep(IDLE_SECONDS if not args.quick else 1.0)
        out["health_idle"] = idle.summary()
        with Prober("127.0.0.1", hub.ports["hub"], "/hub/health") as busy:
            pages = [open_page() for _ in range(args.rounds)]
        out["pages"] = summary(pages, "page times")
        out["health_during_pages"] = busy.summary()
        out["exports"] = {name: admin.s.get(admin.url(f"portal/api/insights/{name}"),
                                            params=year, timeout=300).json()["rows"]
                          for name in TABLES}
        measured("users in the export", out["exports"]["users"])
    return out


def hub_figures(args: argparse.Namespace, seeded: Path, upgraded: Path, tmp: Path,
                year: dict[str, str]) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    variants = ([(f"before ({short_rev(args.before)})", args.before, seeded)]
                if args.before else [])
    for name, rev, source in [*variants, ("after (this checkout)", "", upgraded)]:
        copy = tmp / f"hub-{len(runs)}.sqlite"
        shutil.copy(source, copy)
        print(f"--- hub: {name} ---", flush=True)
        with code_at(rev) if rev else nullcontext(None) as tree:
            runs[name] = on_hub(args, copy, tree, year)
        copy.unlink()
    exports = [run.pop("exports") for run in runs.values()]
    same = {name: all(e[name] == exports[0][name] for e in exports) for name in TABLES}
    return {"runs": runs, "exports_equal": same if len(exports) > 1 else None}


def print_hub(hub: dict[str, Any]) -> None:
    rows = [[name, run["first_page_ms"], run["pages"]["p50_ms"], run["pages"]["p99_ms"],
             run["health_idle"]["p50_ms"], run["health_idle"]["p99_ms"],
             run["health_during_pages"]["p50_ms"], run["health_during_pages"]["p99_ms"]]
            for name, run in hub["runs"].items()]
    print(table(["hub, Insights page for a year", "first page ms", "page p50 ms", "page p99 ms",
                 "/hub/health idle p50", "idle p99", "during pages p50", "p99 (goal < 50)"],
                rows))
    if hub["exports_equal"] is not None:
        print(f"exports of the year, before and after: {hub['exports_equal']}")
