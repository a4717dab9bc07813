"""Owns reading the admin user table's rows from the hub's tables: plain columns, no ORM objects.

Building User objects, with JupyterHub's select-in loads of their roles, the shares made with
them and their groups' roles, was most of a page's time at 1,000 users x 3 servers (a profile of
the hub: about 700 of the page query's 950 samples). A page now reads its accounts' columns, then
their groups and server records in one query each, for every row at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jupyterhub import orm
from nativeauthenticator.orm import UserInfo
from sqlalchemy import Text, literal_column, select


@dataclass(frozen=True)
class Account:
    """One row's hub account: what the table shows, and what the account registries key on
    (`id`, `created`, `name`)."""

    id: int
    name: str
    admin: bool
    created: datetime | None
    last_activity: datetime | None


@dataclass(frozen=True)
class ServerRecord:
    """One of the account's server records: its name, whether it runs, its saved state (the
    stored JSON text, read only for the default server's environment)."""

    name: str
    running: bool
    state_text: str

    @property
    def state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_text) if self.state_text else {}
        except ValueError:
            return {}
        return state if isinstance(state, dict) else {}


def groups_of(db: Any, ids: list[int]) -> dict[int, list[str]]:
    """The group names of each of these accounts (one query)."""
    rows = db.execute(select(orm.user_group_map.c.user_id, orm.Group.name)
                      .join(orm.Group, orm.Group.id == orm.user_group_map.c.group_id)
                      .where(orm.user_group_map.c.user_id.in_(ids)))
    groups: dict[int, list[str]] = {}
    for user_id, name in rows:
        groups.setdefault(user_id, []).append(name)
    return groups


def records_of(db: Any, ids: list[int]) -> dict[int, dict[str, ServerRecord]]:
    """The server records of each of these accounts, by server name (one query)."""
    # The state as its stored text: JupyterHub's JSON column type cannot be cached by
    # SQLAlchemy, which compiled the statement anew on every page.
    state = literal_column(f"{orm.Spawner.__tablename__}.state", Text)
    rows = db.execute(select(orm.Spawner.user_id, orm.Spawner.name, orm.Spawner.server_id, state)
                      .where(orm.Spawner.user_id.in_(ids)))
    records: dict[int, dict[str, ServerRecord]] = {}
    for user_id, name, server_id, text in rows:
        records.setdefault(user_id, {})[name or ""] = ServerRecord(
            name or "", server_id is not None, text or "")
    return records


def signup_addresses(db: Any, names: list[str]) -> dict[str, str]:
    """The address each of these accounts gave at sign-up, where it gave one (one query)."""
    if not names:
        return {}
    # By the name index the hub gets at start (compat/hub_indexes.py; without it a page read
    # all 50,000 rows, 8-9 ms). Accounts with an address of their own are not looked up.
    rows = db.query(UserInfo.username, UserInfo.email).filter(
        UserInfo.email.isnot(None), UserInfo.email != "", UserInfo.username.in_(names))
    return {name: email for name, email in rows}
