"""Owns the settings whose value is one of a few named choices: GPU mode, deleted-user volumes.

Each member's value is what the environment variable holds (`ENABLE_GPU_SUPPORT=2`,
`DELETED_USER_VOLUMES=archive`), so parsing, the labs' environment and the admin pages keep the
same text; code compares members, never the raw numbers or words.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class GpuMode(IntEnum):
    """`ENABLE_GPU_SUPPORT`: whether labs request the NVIDIA GPUs (portal/governance/gpu.py)."""

    OFF = 0  # never, decided without touching Docker
    ON = 1  # always, without detection
    DETECT = 2  # a probe at hub start decides

    @property
    def words(self) -> str:
        """The mode in a few words, for the admin area."""
        return {GpuMode.OFF: "off", GpuMode.ON: "on", GpuMode.DETECT: "detect at hub start"}[self]

    @property
    def probes(self) -> bool:
        """The decision comes from the probe at hub start."""
        return self is GpuMode.DETECT


class DeletedUserVolumes(StrEnum):
    """`DELETED_USER_VOLUMES`: what deleting an account does to its volumes."""

    REMOVE = "remove"
    ARCHIVE = "archive"  # kept as copies an admin can restore or delete
