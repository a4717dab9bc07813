"""Owns the admin's user table: search, filters, sort and pages, answered from the hub's tables.

A few SQL queries per page (never a Docker call): the state comes from the hub's server records,
and from the in-memory spawner where the hub holds one (pending starts and stops, failures).
A filter that matches few users (a search, a group) costs one pass over the users: the IDs it
reads give the count and, by key, the page (the count and the page were a pass each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jupyterhub import orm
from sqlalchemy import and_, func, or_, select

from ..governance.limits import Limits
from ..governance.usage import LabUsage
from ..governance.user_usage import user_usage
from ..lab.chosen_environment import STATE_KEY as ENVIRONMENT_KEY
from ..operations.states import OPERATION_CARDS, CardState
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser, hub_spawning, hub_stopping, loaded_user, spawn_failed
from ..runtime import Runtime
from .table_rows import Account, ServerRecord, groups_of, records_of, signup_addresses

PAGE_SIZES = (25, 50, 100)
SORTS = ("name", "state", "activity")
STATE_FILTERS = ("", "running", "stopped")  # from the server records: exact counts
IDLE_CHOICES = {"": None, "1h": timedelta(hours=1), "1d": timedelta(days=1),
                "7d": timedelta(days=7), "30d": timedelta(days=30)}
FEW = 500  # at most this many matches: counted from their IDs, their page read by key


@dataclass(frozen=True)
class TableQuery:
    search: str = ""
    state: str = ""
    group: str = ""
    idle: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1
    size: int = 50


@dataclass
class Row:
    name: str
    state: CardState
    last_activity: datetime | None
    groups: list[str] = field(default_factory=list)
    admin: bool = False
    usage: LabUsage | None = None  # the last background sample, running servers only
    usage_stale: bool = False
    limits: Limits | None = None
    account: str = ""  # AccountState: "disabled", "must change password", or "" (ordinary)
    two_factor: bool = False  # signs in with a code after the password
    two_factor_unreadable: bool = False  # its secret cannot be decrypted: Clear 2FA helps
    email: str = ""  # where the hub mails the account (its own address, else its sign-up's)
    environment: str = ""  # the environment its server runs or last ran ("": the configured image)
    running: list[str] = field(default_factory=list)  # its running servers ("": the default)

    @property
    def running_servers(self) -> int:  # the hub's records, named servers included
        return len(self.running)


@dataclass
class TablePage:
    rows: list[Row]
    total: int  # users matching the filters (every page)
    query: TableQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))


def read_query(get: Any) -> TableQuery:
    """Filters from request arguments (`get(name)` is "" when absent); 400 on bad values."""
    state, idle, sort = get("state"), get("idle"), get("sort") or "name"
    for value, allowed, what in ((state, STATE_FILTERS, "state"), (idle, IDLE_CHOICES, "idle"),
                                 (sort, SORTS, "sort")):
        if value not in allowed:
            raise ActionRefused(f"Unknown {what} {value[:30]!r}.", 400)
    page, size = get("page") or "1", get("size") or "50"
    if not page.isdigit() or int(page) < 1 or not size.isdigit() or int(size) not in PAGE_SIZES:
        raise ActionRefused(f"page is a number from 1; size one of {PAGE_SIZES}.", 400)
    return TableQuery(search=get("q").strip()[:100], state=state, group=get("group")[:255],
                      idle=idle, sort=sort, descending=get("dir") == "desc", page=int(page),
                      size=int(size))


def _joined(db: Any, q: TableQuery) -> Any:
    query = db.query(orm.User)
    # The server records only when the filter or the order needs them: without the join the
    # first page by name is an index walk (50,000 users: 1 ms instead of 60 on SQLite).
    if q.state or q.sort == "state":
        query = query.outerjoin(
            orm.Spawner, and_(orm.Spawner.user_id == orm.User.id, orm.Spawner.name == ""))
    return query


def _contains(db: Any, text: str) -> Any:
    """Names with `text` in them. A case-sensitive test of the lowercased text: names are the
    authenticator's normalize_username, lowercase, so it finds what ILIKE found, without
    lowercasing every name (50,000 on PostgreSQL: 145 ms a pass instead of 15-19; SQLite's
    ilike, lower() on both sides, 55 ms instead of 11, its LIKE ignoring ASCII case anyway)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.strpos(orm.User.name, text) > 0  # a quarter cheaper than its LIKE
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return orm.User.name.like(f"%{pattern}%", escape="\\")


def _filtered(db: Any, q: TableQuery) -> Any:
    running = orm.Spawner.server_id.isnot(None)
    query = _joined(db, q)
    if q.search:
        query = query.filter(_contains(db, q.search.lower()))
    if q.state == "running":
        query = query.filter(running)
    elif q.state == "stopped":
        query = query.filter(or_(orm.Spawner.id.is_(None), orm.Spawner.server_id.is_(None)))
    if q.group:
        # The group's member IDs once, not an EXISTS per user (`User.groups.any`).
        members = (select(orm.user_group_map.c.user_id)
                   .join(orm.Group, orm.Group.id == orm.user_group_map.c.group_id)
                   .where(orm.Group.name == q.group))
        query = query.filter(orm.User.id.in_(members))
    if IDLE_CHOICES[q.idle] is not None:
        cutoff = datetime.now(UTC).replace(tzinfo=None) - IDLE_CHOICES[q.idle]
        query = query.filter(or_(orm.User.last_activity.is_(None),
                                 orm.User.last_activity < cutoff))
    return query


def _order(q: TableQuery) -> list[Any]:
    if q.sort == "activity":  # never active sorts as the oldest, on either engine
        column = orm.User.last_activity
        first = column.desc().nulls_last() if q.descending else column.asc().nulls_first()
        return [first, orm.User.name.asc()]
    column = {"name": orm.User.name,
              "state": orm.Spawner.server_id.is_(None)}[q.sort]  # running first when ascending
    return [column.desc() if q.descending else column.asc(), orm.User.name.asc()]


def row_state(account: Account, records: dict[str, ServerRecord], users: dict[int, HubUser],
              runtime: Runtime) -> CardState:
    """The card's state without Docker: operations, the in-memory spawner, the server record."""
    op = runtime.operations.current(account.name)
    if op is not None:
        return OPERATION_CARDS[op.kind][0]
    user = loaded_user(users, account.id)
    spawner = user.spawners.get("") if user is not None else None
    if spawner is not None:
        if hub_spawning(spawner):
            return CardState.STARTING
        if hub_stopping(spawner):
            return CardState.STOPPING
        if spawner.ready:
            return CardState.RUNNING
        if spawn_failed(spawner):
            return CardState.FAILED
        return CardState.STOPPED
    record = records.get("")
    return CardState.RUNNING if record is not None and record.running else CardState.STOPPED


def row_environment(account: Account, records: dict[str, ServerRecord],
                    users: dict[int, HubUser]) -> str:
    """The environment of the user's default server, as the card names it: the spawner's
    choice when it is in memory, else the name its record's state keeps."""
    user = loaded_user(users, account.id)
    spawner = user.spawners.get("") if user is not None else None
    if spawner is not None:
        return getattr(getattr(spawner, "chosen", None), "name", "")
    record = records.get("")
    return str(record.state.get(ENVIRONMENT_KEY) or "") if record is not None else ""


def _page(query: Any, q: TableQuery) -> list[Account]:
    return [Account(*row) for row in query.with_entities(
        orm.User.id, orm.User.name, orm.User.admin, orm.User.created, orm.User.last_activity)
        .order_by(*_order(q)).offset((q.page - 1) * q.size).limit(q.size)]


def matching_page(db: Any, q: TableQuery) -> tuple[int, list[Account]]:
    """The number of users matching the filters, and the accounts of the page asked for."""
    query = _filtered(db, q)
    if not (q.search or q.state or q.group or q.idle):
        # count(*) of the table alone: SQLite counts its b-tree (50,000: 0.6 ms; 7 ms for
        # count(users.id), which reads every row).
        return db.query(func.count()).select_from(orm.User).scalar() or 0, _page(query, q)
    # One pass for up to FEW + 1 IDs: a search or a group rarely matches more, and then the
    # IDs are the count and the page is read by key. Past FEW (stopping early), a count and a
    # page of their own: a search for "user" matches every name and its page is an index walk.
    ids = [i for (i,) in query.with_entities(orm.User.id).limit(FEW + 1)]
    if not ids:
        return 0, []
    if len(ids) <= FEW:
        return len(ids), _page(_joined(db, q).filter(orm.User.id.in_(ids)), q)
    # count(*) of the filtered rows themselves: Query.count() wraps the whole select in a
    # subquery, which SQLite materialises (50,000 rows: 45 ms instead of a few).
    return query.with_entities(func.count()).scalar() or 0, _page(query, q)


def table_page(db: Any, users: dict[int, HubUser], runtime: Runtime, q: TableQuery) -> TablePage:
    """One page of the table and the number of users matching its filters: plain columns in
    a few queries a page (the accounts and their count, their groups, their server records,
    sign-up addresses)."""
    total, accounts = matching_page(db, q)
    ids = [a.id for a in accounts]
    groups, records = groups_of(db, ids), records_of(db, ids)
    emails = {a.id: runtime.emails.own(a) for a in accounts}
    signed_up = signup_addresses(db, [a.name for a in accounts if not emails[a.id]])
    rows = []
    for a in accounts:
        own = records.get(a.id, {})
        rows.append(Row(a.name, row_state(a, own, users, runtime), a.last_activity,
                        sorted(groups.get(a.id, [])), bool(a.admin),
                        account=str(runtime.accounts.state(a) or ""),
                        two_factor=runtime.two_factor.enabled(a),
                        two_factor_unreadable=runtime.two_factor.unreadable(a),
                        email=emails[a.id] or signed_up.get(a.name, ""),
                        environment=row_environment(a, own, users),
                        running=sorted(r.name for r in own.values() if r.running)))
    return TablePage(rows, total, q)


async def add_usage_and_limits(page: TablePage, runtime: Runtime) -> None:
    """Each row's last usage samples (over all its running servers) and limits: from memory and
    one cached read of the group overrides, never a Docker call."""
    for row in page.rows:
        row.limits = await runtime.limits.for_groups(row.groups)  # overrides cached in memory
        # The default server also when the hub holds it running before its record says so.
        servers = {*row.running, *([""] if row.state == CardState.RUNNING else [])}
        usage = user_usage(runtime.usage, row.name, servers)
        if usage is not None:
            row.usage, row.usage_stale = usage, runtime.usage.stale(usage)


def matching_names(db: Any, q: TableQuery) -> list[str]:
    """Every user name the filters match (all pages), in the table's order."""
    return [u.name for u in _filtered(db, q).order_by(*_order(q))]

