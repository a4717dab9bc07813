"""Owns who a user volume belongs to: Docker labels with the owner's hub user id.

Volume names come from user names, and a name can be used again after its account is deleted.
The spawner therefore creates each of a user's volumes itself, before the container, labelled
with the owner's hub user id (never re-used by the hub's database), and refuses to start a
server over a volume labelled for another id. Volumes created before labels existed (no
label) are taken as the user's own: Docker cannot add labels to an existing volume.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from docker.errors import NotFound

OWNER_ID = "dshub.owner-id"
OWNER_NAME = "dshub.owner"
VOLUME_KEY = "dshub.volume"
# Archived volumes (a deleted account's, kept on an admin's setting).
ARCHIVED_AT = "dshub.archived-at"
ARCHIVED_FROM = "dshub.archived-from"


def owner_labels(user_id: int, user_name: str, key: str) -> dict[str, str]:
    return {OWNER_ID: str(user_id), OWNER_NAME: user_name, VOLUME_KEY: key}


def foreign_owner(labels: dict[str, str], user_id: int) -> str | None:
    """The other owner's id when the volume is labelled for someone else, else None."""
    owner = labels.get(OWNER_ID)
    return owner if owner is not None and owner != str(user_id) else None


def refusal(volume: str, user_name: str, user_id: int, other_id: str) -> str:
    return (
        f"The volume {volume} belongs to another account (hub user id {other_id}), not to "
        f"{user_name} (id {user_id}): it was left by a deleted account of the same name. "
        f"An admin must move it out of the way before {user_name} can start: remove it "
        f"(`docker volume rm {volume}`) or, to keep the data, copy it elsewhere first."
    )


async def claim_volumes(docker: Callable[..., Awaitable[Any]], volumes: list[Any],
                        user_id: int, user_name: str) -> list[str]:
    """Create the user's missing volumes with owner labels; refuse foreign ones.

    `docker` is DockerSpawner's async `docker(method, ...)`; returns the names created.
    """
    created = []
    for volume in volumes:
        try:
            info = await docker("inspect_volume", volume.name)
        except NotFound:
            await docker("create_volume", name=volume.name,
                         labels=owner_labels(user_id, user_name, volume.key))
            created.append(volume.name)
            continue
        other = foreign_owner(info.get("Labels") or {}, user_id)
        if other is not None:
            raise RuntimeError(refusal(volume.name, user_name, user_id, other))
    return created
