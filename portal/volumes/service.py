"""Owns a user's own volumes: listing them with sizes, and resetting the chosen ones.

Named servers' own volumes are listed too, keyed `<server>/<key>` (`gpu/workspace`); a reset
waits until every server of the user is stopped (home and cache are in all of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..audit.log import EventKind
from ..docker.service import DockerService
from ..docker.types import VolumeInUse
from ..lab.location import users_engine
from ..lab.server_names import named_oldest_first
from ..lab.volume_names import UserVolume, named_server_volumes
from ..operations.in_flight import Busy
from ..operations.states import OperationKind
from ..platform.errors import ActionRefused, DockerUnavailable
from ..platform.logs import portal_logger
from ..platform.upstream import HubUser
from ..runtime import Runtime

log = portal_logger()


@dataclass
class VolumeRow:
    volume: UserVolume
    exists: bool
    size_bytes: int | None


@dataclass
class ResetResult:
    reset: list[str] = field(default_factory=list)  # keys removed
    absent: list[str] = field(default_factory=list)  # keys that did not exist (nothing to do)
    failed: dict[str, str] = field(default_factory=dict)  # key -> reason


@dataclass
class VolumeListing:
    rows: list[VolumeRow]
    sizes_age_s: float | None  # how old the sizes are (None: not measured yet)
    measuring: bool  # a new measurement is running


def own_volumes(user: HubUser) -> list[UserVolume]:
    """The default server's volumes (the user's and its workspace), then each named server's
    own, keyed `<server>/<key>`."""
    spawner = user.spawner
    return [*spawner.owned_volumes(), *(
        replace(v, key=f"{server}/{v.key}", description=f"{v.description} (server {server})")
        for server in named_oldest_first(user) for v in named_server_volumes(spawner, server))]


def running_servers(user: HubUser) -> list[str]:
    """The user's servers the hub holds as active ("" is the default one)."""
    return [name for name in ("", *named_oldest_first(user)) if user.spawners[name].active]


async def volume_rows(user: HubUser, runtime: Runtime) -> VolumeListing:
    """The user's volumes: whether each exists (asked now) and its size (cached, with its age)."""
    volumes = own_volumes(user)
    # Where the volumes live: the hub's engine, or in Swarm mode the user's node (whose sizes
    # the hub-wide cache does not measure: they show as unknown, even when the hub's engine
    # has a volume of the same name).
    docker = await users_engine(user, runtime.docker)
    existing = await docker.existing_volumes()
    sizes = await runtime.volume_sizes.current()
    here = docker is runtime.docker
    rows = [VolumeRow(v, v.name in existing,
                      sizes.by_name.get(v.name) if here and v.name in existing else None)
            for v in volumes]
    return VolumeListing(rows, sizes.age_s, sizes.measuring)


def choose_volumes(user: HubUser, keys: Iterable[str]) -> list[UserVolume]:
    """Map requested keys to the user's own volumes; anything else is refused, not ignored."""
    owned = {v.key: v for v in own_volumes(user)}
    wanted = list(dict.fromkeys(k.strip() for k in keys))
    if not wanted or wanted == [""]:
        raise ActionRefused("Choose at least one volume to reset.", 400)
    unknown = [k for k in wanted if k not in owned]
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise ActionRefused(
            f"Not one of your volumes: {shown}. You can reset: {', '.join(owned)}.", 400
        )
    return [owned[k] for k in wanted]


async def reset_volumes(user: HubUser, runtime: Runtime, keys: Iterable[str], confirmed: bool,
                        how_to_confirm: str, actor: str) -> ResetResult:
    """Remove the chosen volumes of a stopped server; they are re-created empty at next start.

    `confirmed` is the user's explicit consent (the page's tick box, the API's "confirm": true);
    without it nothing is removed and `how_to_confirm` tells them what to do.
    """
    chosen = choose_volumes(user, keys)
    if not confirmed:
        raise ActionRefused(how_to_confirm, 400)
    spawner = user.spawner
    try:
        with runtime.operations.claim(user.name, OperationKind.RESETTING_VOLUMES):
            # Checked after claiming: a start that began earlier is pending by now.
            if spawner.active:
                raise ActionRefused("Stop the server before resetting its volumes.")
            if running := running_servers(user):  # home and cache are in every server
                raise ActionRefused(f"Stop your server {running[0]!r} before resetting "
                                    "volumes: your home and cache are in all your servers.")
            result = ResetResult()
            try:
                docker = await users_engine(user, runtime.docker)
            except DockerUnavailable as e:  # e.g. the node holding the volumes is down
                result.failed = {volume.key: str(e) for volume in chosen}
                docker = None
            for volume in chosen if docker is not None else ():
                await _reset_one(docker, volume, result)
            runtime.volume_sizes.forget([v.name for v in chosen if v.key in result.reset])
            summary = (f"reset {result.reset}, absent {result.absent}, "
                       f"failed {result.failed}")
            log.info("Volume reset for %s by %s: %s", user.name, actor, summary)
            await runtime.audit.record(actor, EventKind.VOLUME_RESET, user.name, summary,
                                       ok=not result.failed)
            return result
    except Busy as e:
        raise ActionRefused(f"Cannot reset volumes: {e.kind} is already in progress.") from None


async def _reset_one(docker: DockerService, volume: UserVolume, result: ResetResult) -> None:
    try:
        users = await docker.containers_using(volume.name)
        if users:
            result.failed[volume.key] = f"in use by container {', '.join(users)}"
        elif await docker.remove_volume(volume.name):
            result.reset.append(volume.key)
        else:
            result.absent.append(volume.key)
    except VolumeInUse as e:
        result.failed[volume.key] = f"in use: {e}"
    except DockerUnavailable as e:
        result.failed[volume.key] = str(e)
