"""Owns the names of the built-in Docker-access groups (shared by the spawner and the portal)."""

SOCK_GROUP = "docker-sock"
PRIVILEGED_GROUP = "docker-privileged"
BUILTIN_GROUPS = (SOCK_GROUP, PRIVILEGED_GROUP)  # membership is root on the host
