"""Owns what happens to a deleted account's volumes: removed, or archived for an admin to
restore into an account (or delete) later. Every step is written to the event log.

Archiving copies each volume to `<name>.archived-<user id>` (Docker cannot rename volumes),
labelled with the old owner, then removes the original, so a new account of the same name
starts empty. Restoring copies an archive into the named account's own (absent) volume.

The hub calls the hook for each of the account's servers. The default server's call disposes of
every volume, named servers' own ones included (found by the server names the hub records); a
named server's call does nothing then, and removes that server's own volumes when only it is
deleted (`deleting_server`, lab/server_names.py). In Swarm mode they are on the node the
user's servers are pinned to (swarm/placement.py), whose engine the locations give.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass

from ..audit.log import EventKind, acting_as
from ..docker.types import DockerRefused
from ..lab.location import users_engine
from ..lab.server_names import deleting_server, named_oldest_first
from ..lab.volume_names import named_server_volumes
from ..lab.volume_owners import (
    ARCHIVED_AT,
    ARCHIVED_FROM,
    OWNER_ID,
    OWNER_NAME,
    VOLUME_KEY,
    foreign_owner,
    owner_labels,
)
from ..platform.errors import ActionRefused
from ..platform.logs import portal_logger
from ..platform.settings_choices import DeletedUserVolumes
from ..platform.upstream import HubSpawner, HubUser
from ..runtime import Runtime

log = portal_logger()
# Set by a deletion that archives whatever DELETED_USER_VOLUMES says (the dormant accounts'
# bulk archive, admin/dormant_archive.py), for the hook it awaits.
archive_always: ContextVar[bool] = ContextVar("dshub_archive_always", default=False)


@dataclass(frozen=True)
class ArchivedVolume:
    name: str
    original: str
    owner: str
    owner_id: str
    key: str
    archived_at: str


async def dispose_of_volumes(spawner: HubSpawner, runtime: Runtime) -> None:
    """The spawner's `account_deleted` hook: remove or archive the user's own volumes.

    A failure is recorded and raised (the hub logs it and still deletes the account): what is
    left keeps its owner label, so a new account of the same name is refused, never given it.
    """
    if spawner.name:  # a named server: only its own deletion removes anything here
        if deleting_server.get():
            removed = await remove_server_volumes(spawner, runtime)
            await runtime.audit.record(acting_as.get(), EventKind.SERVER_DELETED,
                                       spawner.user.name, f"server {spawner.name!r}; volumes "
                                       f"removed: {', '.join(removed) or 'none'}")
        return
    user_id, user_name = spawner.user.id, spawner.user.name
    archive = (archive_always.get()
               or runtime.settings.deleted_user_volumes is DeletedUserVolumes.ARCHIVE)
    done: list[str] = []
    kept: list[str] = []
    try:
        await _dispose(spawner, runtime, archive, done, kept)
    except Exception as e:
        await runtime.audit.record(acting_as.get(), EventKind.ACCOUNT_DELETED, user_name,
                                   f"volumes {done or 'none'} done; stopped by: {e}", ok=False)
        raise
    finally:
        runtime.volume_sizes.forget(done)
    verb = "archived" if archive else "removed"
    detail = f"volumes {verb}: {', '.join(done) or 'none'}"
    if kept:
        detail += f"; left alone (another account's): {', '.join(kept)}"
    log.info("Account %s (id %s) deleted: %s", user_name, user_id, detail)
    await runtime.audit.record(acting_as.get(), EventKind.ACCOUNT_DELETED, user_name, detail)


async def _dispose(spawner: HubSpawner, runtime: Runtime, archive: bool, done: list[str],
                   kept: list[str]) -> None:
    user_id = spawner.user.id
    named = named_oldest_first(spawner.user)
    docker = await users_engine(spawner.user, runtime.docker)
    # A kept container would hold the volumes (and a new account could reuse it).
    for server in ("", *named):
        await docker.remove_container(spawner.user.spawners[server].container_name)
    volumes = [*spawner.owned_volumes(),
               *(v for server in named for v in named_server_volumes(spawner, server))]
    for volume in volumes:
        labels = await docker.volume_labels(volume.name)
        if labels is None:
            continue
        if foreign_owner(labels, spawner.user) is not None:
            kept.append(volume.name)  # someone else's: never touched here
            continue
        if archive:
            # Ids can be re-used (SQLite): the time keeps every archive's name its own.
            target = f"{volume.name}.archived-{user_id}-{time.strftime('%Y%m%d%H%M%S')}"
            await docker.copy_volume(volume.name, target, image=spawner.image, labels={
                **owner_labels(spawner.user, volume.key), ARCHIVED_FROM: volume.name,
                ARCHIVED_AT: time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())})
        await docker.remove_volume(volume.name)
        done.append(volume.name)


async def remove_server_volumes(spawner: HubSpawner, runtime: Runtime) -> list[str]:
    """Remove a named server's own volumes (its container first) on the engine holding them
    (Swarm: its node's); another account's are left alone. Returns the names removed."""
    docker = await spawner.location.engine(runtime.docker)
    await docker.remove_container(spawner.container_name)
    removed = []
    for volume in named_server_volumes(spawner, spawner.name):
        labels = await docker.volume_labels(volume.name)
        if labels is not None and foreign_owner(labels, spawner.user) is None:
            await docker.remove_volume(volume.name)
            removed.append(volume.name)
    runtime.volume_sizes.forget(removed)
    log.info("Server %s/%s deleted: volumes removed: %s", spawner.user.name, spawner.name,
             ", ".join(removed) or "none")
    return removed


async def archived_volumes(runtime: Runtime) -> list[ArchivedVolume]:
    found = await runtime.docker.labelled_volumes(ARCHIVED_AT)
    return sorted((ArchivedVolume(v["Name"], v["Labels"].get(ARCHIVED_FROM, ""),
                                  v["Labels"].get(OWNER_NAME, ""), v["Labels"].get(OWNER_ID, ""),
                                  v["Labels"].get(VOLUME_KEY, ""), v["Labels"][ARCHIVED_AT])
                   for v in found), key=lambda a: (a.owner, a.archived_at, a.key))


async def _find(runtime: Runtime, name: str) -> ArchivedVolume:
    for archived in await archived_volumes(runtime):
        if archived.name == name:
            return archived
    raise ActionRefused(f"There is no archived volume named {name[:120]!r}.", 404)


async def restore(runtime: Runtime, name: str, account: HubUser, actor: str) -> str:
    """Copy an archived volume into `account`'s own volume of the same key (which must not
    exist, with the server stopped); the archive then goes. Returns the restored volume."""
    archived = await _find(runtime, name)
    spawner = account.spawner
    own = {v.key: v for v in spawner.owned_volumes()}.get(archived.key)
    if own is None:
        raise ActionRefused(f"{account.name} has no volume {archived.key!r} to restore into.")
    if spawner.active:
        raise ActionRefused(f"Stop {account.name}'s server before restoring a volume.")
    if await runtime.docker.volume_labels(own.name) is not None:
        raise ActionRefused(f"{account.name} already has a volume {own.name}: reset it from "
                            "their volume dialog first, then restore.")
    try:
        await runtime.docker.copy_volume(name, own.name, image=spawner.image,
                                         labels=owner_labels(account, own.key))
    except DockerRefused as e:
        raise ActionRefused(str(e), 502) from None
    await runtime.docker.remove_volume(name)
    await runtime.audit.record(actor, EventKind.VOLUME_ARCHIVE, account.name,
                               f"restored {name} into {own.name}")
    return own.name


async def delete_archived(runtime: Runtime, name: str, actor: str) -> None:
    archived = await _find(runtime, name)
    await runtime.docker.remove_volume(name)
    await runtime.audit.record(actor, EventKind.VOLUME_ARCHIVE, archived.owner,
                               f"deleted archived volume {name}")
