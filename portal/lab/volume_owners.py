"""Owns who a user volume belongs to: Docker labels naming the owning account.

Volume names come from user names, and a name can be used again after its account is deleted.
The spawner therefore creates each of a user's volumes itself, before the container, labelled
with the owner's account key, and refuses to start a server over a volume labelled for another
account. The key is the hub user id plus the account's creation time: SQLite hands a deleted
user's id to the next user created (the tests saw it), so the id alone does not tell two
accounts apart. Volumes created before labels existed (no label) are taken as the user's own:
Docker cannot add labels to an existing volume.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..docker.service import DockerService
from ..platform.upstream import HubUser

# A volume's driver and its options (None, None: the engine's default local driver).
VolumeDriver = tuple[str | None, dict[str, str] | None]

OWNER_KEY = "dshub.owner-key"
OWNER_ID = "dshub.owner-id"
OWNER_NAME = "dshub.owner"
VOLUME_KEY = "dshub.volume"
# Archived volumes (a deleted account's, kept on an admin's setting).
ARCHIVED_AT = "dshub.archived-at"
ARCHIVED_FROM = "dshub.archived-from"


def account_key(user: HubUser) -> str:
    """`<hub user id>-<creation time>`: unique across accounts, even when an id is re-used."""
    created = getattr(user, "created", None)
    return f"{user.id}-{created:%Y%m%dT%H%M%S.%f}" if created else str(user.id)


def owner_labels(user: HubUser, key: str) -> dict[str, str]:
    return {OWNER_KEY: account_key(user), OWNER_ID: str(user.id), OWNER_NAME: user.name,
            VOLUME_KEY: key}


def foreign_owner(labels: dict[str, str], user: HubUser) -> str | None:
    """The other account's key when the volume is labelled for someone else, else None."""
    owner = labels.get(OWNER_KEY)
    return owner if owner is not None and owner != account_key(user) else None


def refusal(volume: str, user_name: str, user_id: int, other: str) -> str:
    return (
        f"The volume {volume} belongs to another account (key {other}), not to {user_name} "
        f"(hub user id {user_id}): it was left by a deleted account of the same name. "
        f"An admin must move it out of the way before {user_name} can start: remove it "
        f"(`docker volume rm {volume}`) or, to keep the data, copy it elsewhere first."
    )


async def claim_volumes(docker: DockerService, volumes: list[Any], user: HubUser,
                        driver: Callable[[str], VolumeDriver] | None = None) -> list[str]:
    """Create the user's missing volumes with owner labels; refuse foreign ones.

    `docker` is the engine that holds them (Swarm: the chosen node's); `driver` names a
    volume's driver and options (shared storage). Returns the names created.
    """
    created = []
    for volume in volumes:
        labels = await docker.volume_labels(volume.name)
        if labels is None:
            name, options = driver(volume.name) if driver else (None, None)
            await docker.create_volume(volume.name, owner_labels(user, volume.key),
                                       driver=name, driver_opts=options)
            created.append(volume.name)
            continue
        other = foreign_owner(labels, user)
        if other is not None:
            raise RuntimeError(refusal(volume.name, user.name, user.id, other))
    return created
