"""Owns creating accounts in a batch from a CSV: the preview, then the creation with generated
passphrases, approved, in their groups (portal/auth/account_batches.py holds the batches). A
generated passphrase works once, like an admin's reset: each account is marked, before its
passphrase is listed, as having to choose its own password at its first sign-in
(auth/account_states.py; the gate lets it reach nothing else meanwhile).

Nothing is created while any row is bad, and the rows are checked again at the confirmation (a
name may have been taken meanwhile). The work never holds the hub's event loop: names are
compared on a thread, passphrases hashed on a thread of their own (auth/passwords.py), and the
accounts written 100 to a commit, the loop free between chunks. It runs as a task whose
progress the page follows. A failure part-way keeps what was done: the accounts created so far,
with their passphrases, stay in the credentials. Adding to a Docker-access group needs sudo
mode: the confirmation names the batch's such groups, the gate asks for it
(access/host_power.py), and a batch holding one its confirmation left out is refused.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from jupyterhub import orm
from nativeauthenticator.orm import UserInfo

from ..access.groups import change_memberships
from ..access.names import BUILTIN_GROUPS
from ..audit.log import EventKind
from ..auth.account_batches import Batch, BatchRow, check_rows, parse
from ..auth.setup_code import new_code
from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.user_names import names_in_use
from ..runtime import Runtime

log = portal_logger("batch")
CHUNK = 100  # accounts per commit


def power_groups(batch: Batch) -> list[str]:
    return [group for group in batch.groups() if group in BUILTIN_GROUPS]


async def preview(authenticator: Any, db: Any, runtime: Runtime, actor: str,
                  text: str) -> Batch:
    rows, notes = parse(text)
    for row in rows:
        row.name = authenticator.normalize_username(row.name) if row.name else ""
    await _check(authenticator, db, rows)
    batch = Batch(secrets.token_urlsafe(16), actor, rows, notes, runtime.batches.clock())
    runtime.batches.add(batch)
    return batch


async def start(authenticator: Any, db: Any, runtime: Runtime, token: str, actor: str,
                declared: str) -> Batch:
    """Check the rows again and start creating; raises ActionRefused (nothing created)."""
    batch = runtime.batches.get(token, actor)
    if batch.started:
        raise ActionRefused("This batch was confirmed already.", 409)
    if set(power_groups(batch)) - set(declared.replace(",", " ").split()):
        raise ActionRefused("The confirmation does not name every Docker-access group of the "
                            "batch: preview the file again. Nothing was created.", 409)
    await _check(authenticator, db, batch.rows)
    if batch.bad:
        raise ActionRefused(f"{len(batch.bad)} rows are not right now (names taken "
                            "meanwhile?): preview the file again. Nothing was created.", 409)
    batch.started = True
    runtime.batches.run(_create(authenticator, db, runtime, batch))
    return batch


async def _check(authenticator: Any, db: Any, rows: list[BatchRow]) -> None:
    in_use = [*names_in_use(db), authenticator.normalize_username(authenticator.admin_name)]
    groups = {name for (name,) in db.query(orm.Group.name)}
    await asyncio.to_thread(check_rows, rows, in_use, groups)


async def _create(authenticator: Any, db: Any, runtime: Runtime, batch: Batch) -> None:
    try:
        for first in range(0, len(batch.rows), CHUNK):
            made = []
            for row in batch.rows[first:first + CHUNK]:
                passphrase = new_code()
                made.append((row.name, passphrase,
                             await authenticator.passwords.hash_generated(passphrase)))
            users = _add_accounts(db, [(name, hashed) for name, _, hashed in made])
            # Only a marked account's passphrase is handed out: if marking fails, the chunk's
            # accounts exist with passphrases nobody knows (an admin resets them).
            await runtime.accounts.require_new_passwords(users, batch.actor)
            batch.created.extend((name, passphrase) for name, passphrase, _ in made)
            for name, _, _ in made:
                await runtime.audit.record(batch.actor, EventKind.ACCOUNT_CREATED, name,
                                           "created by an admin from a CSV, approved, with a "
                                           "generated passphrase to replace at the first "
                                           "sign-in")
        for group in batch.groups():
            members = [row.name for row in batch.rows if group in row.groups]
            for first in range(0, len(members), CHUNK):  # a commit per 100 members
                await change_memberships(db, runtime.group_guard, batch.actor, group,
                                         members[first:first + CHUNK], True)
    except Exception as error:  # what was made stays listed, with its passphrase
        db.rollback()
        log.exception("Batch %s stopped after %d accounts", batch.token, len(batch.created))
        batch.error = f"It stopped after {len(batch.created)} accounts: {error}"
    finally:
        batch.finished = True


def _add_accounts(db: Any, accounts: list[tuple[str, bytes]]) -> list[orm.User]:
    """Approved NativeAuthenticator accounts and their hub users (with the default `user`
    role, as the hub gives at a first sign-in), in one commit."""
    user_role = orm.Role.find(db, "user")
    users = []
    for name, hashed in accounts:
        db.add(UserInfo(username=name, password=hashed, is_authorized=True))
        user = orm.User(name=name)
        if user_role is not None:
            user.roles.append(user_role)
        db.add(user)
        users.append(user)
    db.commit()
    return users
