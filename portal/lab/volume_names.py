"""Owns the names and mounts of a user's volumes (their own ones and the shared one).

Names come from DockerSpawner's own templating (escaped user names): ask the spawner's
`owned_volumes()`, never rebuild a volume name from strings elsewhere. The spawner takes the
settings declared below (`c.PortalSpawner.user_volumes`, ...) and builds a `VolumeNames` from
their values when it needs one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from traitlets import Dict, Unicode


@dataclass(frozen=True)
class UserVolume:
    """One of a user's own volumes: its key, real Docker name, mount path and description."""

    key: str
    name: str
    mount: str
    description: str


@dataclass(frozen=True)
class VolumeNames:
    """Which volumes a user has and what they are called, from the spawner's settings."""

    own: Mapping[str, str]  # key -> mount path
    template: str  # with {username} and {volume}
    shared_name: str
    shared_mount: str
    descriptions: Mapping[str, str]

    def binds(self) -> dict[str, str]:
        """DockerSpawner's `volumes` (name templates -> mount paths), the shared one included."""
        binds = {self.template.replace("{volume}", key): path for key, path in self.own.items()}
        binds[self.shared_name] = self.shared_mount
        return binds

    def owned(self, render: Callable[[str], str]) -> list[UserVolume]:
        """The user's own volumes; `render` fills a name template in for this user."""
        return [UserVolume(key, render(self.template.replace("{volume}", key)), path,
                           self.descriptions.get(key, ""))
                for key, path in self.own.items()]

    def shared(self) -> UserVolume:
        return UserVolume("shared", self.shared_name, self.shared_mount,
                          self.descriptions.get("shared", ""))


# The settings, each a `c.PortalSpawner.<name>`: declared here, assigned in PortalSpawner's body.
USER_VOLUMES = Dict(
    default_value={"home": "/home", "workspace": "/home/lab/workspace",
                   "cache": "/home/lab/.cache"},
    help="The user's own volumes: key -> mount path. Users may reset these.",
).tag(config=True)
NAME_TEMPLATE = Unicode(
    "jupyterlab-{username}_{volume}",
    help="Docker name of a user volume; {volume} is its key, {username} the escaped name.",
).tag(config=True)
SHARED_NAME = Unicode(
    "jupyterhub_shared", help="Volume every user sees; never resettable from the portal."
).tag(config=True)
SHARED_MOUNT = Unicode("/mnt/shared", help="Where the shared volume is mounted.").tag(config=True)
DESCRIPTIONS = Dict(
    default_value={
        "home": "Your home directory: settings, shell history, installed tools",
        "workspace": "Your projects and notebooks",
        "cache": "Downloaded packages and models; safe to reset",
        "shared": "Shared with every user of the hub",
    },
    help="One-line description per volume key (and 'shared'), shown in the portal.",
).tag(config=True)
