"""Owns the names and mounts of a user's volumes (their own ones and the shared one).

Names come from DockerSpawner's own templating (escaped user names): ask the spawner's
`owned_volumes()`, never rebuild a volume name from strings elsewhere. The spawner takes the
settings declared below (`c.PortalSpawner.user_volumes`, ...) and builds a `VolumeNames` from
their values when it needs one.

Per user or per server: the keys in `server_volumes` (the workspace) belong to one server. The
default server's keep the user template (`jupyterlab-bob_workspace`, as before named servers),
a named server's take the server template (`jupyterlab-bob--gpu_workspace`); every other key
(home, cache) is the user's, mounted into each of their servers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from traitlets import Dict, List, Unicode


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
    per_server: tuple[str, ...] = ()  # keys each server has its own of
    server_template: str = ""  # with {username}, {servername} and {volume}
    named: bool = False  # a named server's (else the default server's)

    def _template(self, key: str) -> str:
        named_own = self.named and key in self.per_server
        return (self.server_template if named_own else self.template).replace("{volume}", key)

    def binds(self) -> dict[str, str]:
        """DockerSpawner's `volumes` (name templates -> mount paths), the shared one included."""
        binds = {self._template(key): path for key, path in self.own.items()}
        binds[self.shared_name] = self.shared_mount
        return binds

    def owned(self, render: Callable[[str], str]) -> list[UserVolume]:
        """This server's volumes (the user's and its own); `render` fills a template in."""
        return [UserVolume(key, render(self._template(key)), path,
                           self.descriptions.get(key, ""))
                for key, path in self.own.items()]

    def server_own(self, render: Callable[[str], str]) -> list[UserVolume]:
        """Only the volumes this server has of its own (what deleting a named server removes)."""
        return [v for v in self.owned(render) if v.key in self.per_server]

    def shared(self) -> UserVolume:
        return UserVolume("shared", self.shared_name, self.shared_mount,
                          self.descriptions.get("shared", ""))


def named_server_volumes(spawner: Any, server: str) -> list[UserVolume]:
    """The volumes the user's named server `server` has of its own, named by `spawner` (any of
    that user's; account deletion asks the default server's)."""
    own = replace(spawner.volume_names, named=True)
    escaped = spawner.escape(server.lower())
    return own.server_own(lambda template: spawner.format_volume_name(
        template.replace("{servername}", escaped), spawner))


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
SERVER_VOLUMES = List(
    Unicode(), default_value=["workspace"],
    help="Keys of user_volumes that each server has its own of (the rest are the user's, "
    "mounted into all their servers).",
).tag(config=True)
SERVER_NAME_TEMPLATE = Unicode(
    "jupyterlab-{username}--{servername}_{volume}",
    help="Docker name of a named server's own volume ({servername}: the escaped server name); "
    "keep `--` after {username}: no escaped user name holds it (server_names.py).",
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
