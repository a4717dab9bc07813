"""Owns the names and mounts of a user's volumes (their own ones and the shared one).

Names come from DockerSpawner's own templating (escaped user names): ask `owned_volumes()`,
never rebuild a volume name from strings elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from traitlets import Dict, HasTraits, Unicode, default


@dataclass(frozen=True)
class UserVolume:
    """One of a user's own volumes: its key, real Docker name, mount path and description."""

    key: str
    name: str
    mount: str
    description: str


class UserVolumes(HasTraits):
    """Mixed into PortalSpawner: which volumes a user has and what they are called."""

    format_volume_name: Any  # DockerSpawner's renderer of name templates

    user_volumes = Dict(
        default_value={
            "home": "/home",
            "workspace": "/home/lab/workspace",
            "cache": "/home/lab/.cache",
        },
        help="The user's own volumes: key -> mount path. Users may reset these.",
    ).tag(config=True)

    volume_name_template = Unicode(
        "jupyterlab-{username}_{volume}",
        help="Docker name of a user volume; {volume} is its key, {username} the escaped name.",
    ).tag(config=True)

    shared_volume_name = Unicode(
        "jupyterhub_shared", help="Volume every user sees; never resettable from the portal."
    ).tag(config=True)

    shared_volume_mount = Unicode("/mnt/shared", help="Where the shared volume is mounted.").tag(
        config=True
    )

    volume_descriptions = Dict(
        default_value={
            "home": "Your home directory: settings, shell history, installed tools",
            "workspace": "Your projects and notebooks",
            "cache": "Downloaded packages and models; safe to reset",
            "shared": "Shared with every user of the hub",
        },
        help="One-line description per volume key (and 'shared'), shown in the portal.",
    ).tag(config=True)

    @default("volumes")
    def _volumes_default(self) -> dict[str, str]:
        binds = {
            self.volume_name_template.replace("{volume}", key): path
            for key, path in self.user_volumes.items()
        }
        binds[self.shared_volume_name] = self.shared_volume_mount
        return binds

    def owned_volumes(self) -> list[UserVolume]:
        """This user's own volumes with their real (escaped) Docker names."""
        return [
            UserVolume(
                key=key,
                name=self.format_volume_name(
                    self.volume_name_template.replace("{volume}", key), self
                ),
                mount=path,
                description=self.volume_descriptions.get(key, ""),
            )
            for key, path in self.user_volumes.items()
        ]

    def shared_volume(self) -> UserVolume:
        return UserVolume(
            key="shared",
            name=self.shared_volume_name,
            mount=self.shared_volume_mount,
            description=self.volume_descriptions.get("shared", ""),
        )
