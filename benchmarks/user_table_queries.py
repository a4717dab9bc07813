"""The admin user table's database work at scale, in this process (no hub, no HTTP): the code at
`--before REV` and the working tree's side by side, on the same seeded database.

The database is hub_scale's (`make_schemas()` then `seed()`: 50,000 accounts in 500 groups,
2,000 running stand-ins), a tenth of the sign-ups with an address, on SQLite (a file under
/tmp/ut-bench-*) and, with `--engines ... postgresql`, on a throwaway loopback PostgreSQL server
(scripts/postgres.sh; VACUUM ANALYZE after the seeding, as autovacuum would do). For each view
it times, old and new in turn, `--repeats` times:
- count + page: the number of users matching the filters and the page's accounts (what
  `table_page` asks first);
- rows: the page's groups, server records and sign-up addresses.
Each view's count and names must be the same before and after, or the run fails.

    .venv/bin/python -c 'from benchmarks.user_table_queries import main; main()' \\
        [--engines sqlite postgresql] [--before REV] [--repeats 50] [--accounts 50000]

Not in benchmarks/__main__.py's BENCHMARKS (so no `__main__` guard: that list is for the runs
that start hubs and keep their results): it compares two revisions of one module.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The last commit with the table's earlier queries (two passes for a search, ILIKE).
BEFORE = "62260f8"
VIEWS = {  # name: request arguments; the first four are hub_scale's
    "first page": {},
    "search user0042": {"q": "user0042"},
    "sort by activity desc": {"sort": "activity", "dir": "desc"},
    "group group007": {"group": "group007"},
    "search mid-name ser004": {"q": "ser004"},
    "search USER0042 (case)": {"q": "USER0042"},
    "search user (all match)": {"q": "user", "page": "3"},
    "running, by state": {"state": "running", "sort": "state"},
    "idle 30d, page 2": {"idle": "30d", "page": "2"},
}


def load_before(rev: str, into: Path) -> ModuleType:
    """portal/admin/user_table.py at `rev`, importable beside the current one (with its own
    table_rows), as portal.admin.user_table_before."""
    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    modules = {}
    for name in ("table_rows", "user_table"):
        source = show(f"portal/admin/{name}.py").replace(
            "from .table_rows import", "from .table_rows_before import")
        (into / f"{name}_before.py").write_text(source)
        spec = importlib.util.spec_from_file_location(
            f"portal.admin.{name}_before", into / f"{name}_before.py")
        assert spec is not None and spec.loader is not None
        modules[name] = module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return modules["user_table"]


def before_count_and_page(old: ModuleType, db: Any, q: Any) -> tuple[int, list[Any]]:
    """What table_page did first at `--before` (its statements, unchanged)."""
    from jupyterhub import orm
    from sqlalchemy import func

    query = old._filtered(db, q)
    total = query.with_entities(func.count(orm.User.id)).scalar() or 0
    accounts = [old.Account(*row) for row in query.with_entities(
        orm.User.id, orm.User.name, orm.User.admin, orm.User.created, orm.User.last_activity)
        .order_by(*old._order(q)).offset((q.page - 1) * q.size).limit(q.size)]
    return total, accounts


def before_rows(old: ModuleType, db: Any, accounts: list[Any]) -> Any:
    from nativeauthenticator.orm import UserInfo

    ids = [a.id for a in accounts]
    return (old.groups_of(db, ids), old.records_of(db, ids),
            dict(db.query(UserInfo.username, UserInfo.email).filter(
                UserInfo.username.in_([a.name for a in accounts]))))


def after_rows(db: Any, accounts: list[Any]) -> Any:
    from portal.admin.table_rows import groups_of, records_of, signup_addresses

    ids = [a.id for a in accounts]
    return groups_of(db, ids), records_of(db, ids), signup_addresses(db, [a.name for a in accounts])


@contextmanager
def databases(engine: str, data: Path) -> Iterator[tuple[str, str]]:
    """(hub URL, store URL), empty, on `engine` (hub_scale's: files in `data`, or a throwaway
    loopback PostgreSQL server)."""
    from .hub_scale import engine_urls

    with engine_urls(engine, data) as urls:
        yield (urls.get("JUPYTERHUB_DATABASE_URL", f"sqlite:///{data}/hub.sqlite"),
               urls.get("PORTAL_DATABASE_URL", f"sqlite:///{data}/store.sqlite"))


def seeded(hub_url: str, store_url: str, args: argparse.Namespace) -> None:
    import sqlalchemy as sa

    from .hub_scale import make_schemas, seed

    make_schemas(hub_url, store_url)
    seed(hub_url, store_url, argparse.Namespace(
        accounts=args.accounts, groups=args.groups, audit_days=1, audit_per_day=10,
        cull_warning=60.0), list(range(20000, 20000 + args.stubs)), ["admin"])
    hub = sa.create_engine(hub_url, isolation_level="AUTOCOMMIT")
    with hub.connect() as db:
        db.execute(sa.text("UPDATE users_info SET email = username || '@example.org' "
                           "WHERE id % 10 = 0"))
        if hub.dialect.name == "postgresql":
            db.execute(sa.text("VACUUM ANALYZE"))
    hub.dispose()


def timed(call: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = call(*args)
    return (time.perf_counter() - t0) * 1000, result


def measure(engine: str, hub_url: str, old: ModuleType, repeats: int) -> list[list[Any]]:
    from jupyterhub import orm

    from portal.admin.user_table import matching_page, read_query

    from .stats import measured, pct

    db = orm.new_session_factory(hub_url)()
    lines = []
    for view, arguments in VIEWS.items():
        q = read_query(lambda name, a=arguments: a.get(name, ""))
        old_q = old.read_query(lambda name, a=arguments: a.get(name, ""))
        ms: dict[str, list[float]] = {"old": [], "new": [], "old rows": [], "new rows": []}
        for i in range(repeats + 2):  # the first two warm the caches, and are not counted
            t_old, (old_total, old_accounts) = timed(before_count_and_page, old, db, old_q)
            t_new, (total, accounts) = timed(matching_page, db, q)
            r_old, _ = timed(before_rows, old, db, old_accounts)
            r_new, _ = timed(after_rows, db, accounts)
            if i >= 2:
                for key, value in zip(ms, (t_old, t_new, r_old, r_new), strict=True):
                    ms[key].append(value)
            db.rollback()  # as the hub ends each request's transaction
        if (old_total, [a.name for a in old_accounts]) != (total, [a.name for a in accounts]):
            raise RuntimeError(f"{engine}, {view}: {old_total} users {old_accounts[:3]} before, "
                               f"{total} {accounts[:3]} now")
        measured(f"{engine} {view}", ms["new"], repeats)
        p50 = {key: round(pct(values, 50), 2) for key, values in ms.items()}
        lines.append([engine, view, total, p50["old"], p50["new"],
                      round(pct(ms["new"], 99), 2), p50["old rows"], p50["new rows"]])
    db.close()
    db.get_bind().dispose()
    return lines


def main() -> None:
    from .stats import table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--stubs", type=int, default=2000, help="running stand-ins")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--engines", nargs="+", default=["sqlite"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--before", default=BEFORE, help="the revision to compare with")
    args = parser.parse_args()
    cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True,
                         text=True).stdout.split(":", 1)[-1].strip()
    work = Path(tempfile.mkdtemp(prefix="ut-bench-"))
    try:
        old = load_before(args.before, work)
        print(f"CPU: {cpu}; {args.accounts} accounts, {args.groups} groups, {args.stubs} "
              f"running; p50 of {args.repeats} (new p99 beside), ms; before: {args.before}")
        for engine in args.engines:
            data = work / engine
            data.mkdir()
            with databases(engine, data) as (hub_url, store_url):
                t0 = time.monotonic()
                seeded(hub_url, store_url, args)
                print(f"\n{engine}: seeded {args.accounts} accounts in "
                      f"{time.monotonic() - t0:.0f} s\n", flush=True)
                print(table(["engine", "view", "matching", "count + page before", "after",
                             "after p99", "rows before", "rows after"],
                            measure(engine, hub_url, old, args.repeats)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
