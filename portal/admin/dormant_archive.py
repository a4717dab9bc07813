"""Owns archiving dormant accounts in bulk: each one is deleted the way the hub deletes an account
(its server stopped, its spawners, its password, the hub user), with its volumes archived
whatever DELETED_USER_VOLUMES says (volumes/account_volumes.py, through the spawner's
account_deleted hook, which writes the `account deleted` event naming the archives).

The volumes go first: when archiving fails the account keeps its password and hub user, so
nothing is lost and the admin sees why. An account active since the report, an admin, the
acting admin and an account whose server is busy are refused, each in its own result line.
Needs sudo mode (the gate, access/host_power.py): it takes accounts away in bulk.
"""

from __future__ import annotations

from typing import Any

from jupyterhub import orm
from jupyterhub.utils import maybe_future

from ..audit.log import EventKind, acting_as
from ..platform.errors import ActionRefused
from ..platform.upstream import HubUser
from ..runtime import Runtime
from ..servers.actions import HubActions
from ..volumes.account_volumes import archive_always
from .bulk_actions import Result, each_account
from .dormant import dormant_query


async def _archive_one(user: HubUser, dormant: bool, *, authenticator: Any, users: Any,
                       runtime: Runtime, hub: HubActions) -> str:
    if user.name == hub.actor:
        raise ActionRefused("You cannot archive your own account.", 409)
    if user.admin:
        raise ActionRefused("Admins are not archived from here: take the admin flag away "
                            "first.", 409)
    if not dormant:
        raise ActionRefused("active since the report (or never that quiet): kept", 409)
    spawner = user.spawner
    if spawner.pending:
        raise ActionRefused(f"its server is busy ({spawner.pending}): try again later", 409)
    if spawner.active:
        await hub.stop(user)  # the hub's own stop, awaited: deletion needs it stopped
        if spawner.active or spawner._stop_pending:
            raise ActionRefused("its server did not stop: try again later", 409)
    hooked = bool(user.orm_user.orm_spawners)  # no spawner: no hook, no volumes ever made
    actor, always = acting_as.set(hub.actor), archive_always.set(True)
    try:
        await user.delete_spawners()  # the volumes: archived, or this raises (nothing lost)
    except Exception as error:  # the hook recorded it in the event log
        raise ActionRefused(f"its volumes could not be archived ({error}): the account is "
                            "kept", 500) from None
    finally:
        acting_as.reset(actor)
        archive_always.reset(always)
    await maybe_future(authenticator.delete_user(user))
    users.delete(user)
    if not hooked:
        await runtime.audit.record(hub.actor, EventKind.ACCOUNT_DELETED, user.name,
                                   "dormant, archived: it never had a server, so no volumes")
    return "deleted, its volumes archived (restore them under Archived volumes)"


async def archive_dormant(db: Any, names: list[str], days: int, *, find_user: Any,
                          authenticator: Any, users: Any, runtime: Runtime,
                          hub: HubActions) -> list[Result]:
    """Archive each named account still without activity for `days`; a result line each."""
    # Read from the database now (one query), not from the users the hub holds in memory.
    dormant = {name for (name,) in dormant_query(db, days, None, orm.User.name).filter(
        orm.User.name.in_(names))}
    return await each_account(names, find_user, lambda user: _archive_one(
        user, user.name in dormant, authenticator=authenticator, users=users, runtime=runtime,
        hub=hub))
