"""Owns what the portal's handlers and services share at run time (built by `portal.setup`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from .access_groups import GroupGuard
from .audit import AuditLog
from .broadcast import Broadcaster
from .docker_service import DockerService
from .lab_exits import ExitReports
from .limits import Limits, LimitsService
from .live_updates import LiveUpdates
from .operations import Operations
from .settings import Settings
from .settings_choices import GpuMode
from .store import PortalStore
from .sudo import SUDO_API_PATH, SudoMode
from .usage import UsageCollector
from .volume_sizes import VolumeSizes


@dataclass
class GpuStatus:
    mode: GpuMode
    enabled: bool
    reason: str


@dataclass
class Runtime:
    settings: Settings
    docker: DockerService
    store: PortalStore
    group_guard: GroupGuard = None  # type: ignore[assignment]  # set in __post_init__
    audit: AuditLog = None  # type: ignore[assignment]  # set in __post_init__
    live: LiveUpdates = None  # type: ignore[assignment]  # set in __post_init__
    operations: Operations = field(default_factory=Operations)
    gpu: GpuStatus | None = None
    # ENABLE_GPU_SUPPORT=2: the detection task; `gpu` stays None until it ends.
    gpu_ready: asyncio.Task | None = None
    # Notification broadcast: the hub's one credential for reaching every lab (portal.setup).
    broadcaster: Broadcaster | None = None
    volume_sizes: VolumeSizes = None  # type: ignore[assignment]  # set in __post_init__
    # Password confirmations for actions that grant host power (portal/sudo.py).
    sudo: SudoMode = None  # type: ignore[assignment]  # set in __post_init__
    limits: LimitsService = None  # type: ignore[assignment]  # set in __post_init__
    exits: ExitReports = None  # type: ignore[assignment]  # set in __post_init__
    usage: UsageCollector = None  # type: ignore[assignment]  # set in __post_init__
    culler: Any = None  # portal.culling.Culler, set by portal.setup (it needs this runtime)

    def __post_init__(self) -> None:
        if self.live is None:
            self.live = LiveUpdates(self.operations)
        if self.audit is None:
            self.audit = AuditLog(self.store)
        if self.volume_sizes is None:
            self.volume_sizes = VolumeSizes(self.docker)
        if self.group_guard is None:
            self.group_guard = GroupGuard(self.store, self.audit)
        if self.sudo is None:
            self.sudo = SudoMode(self.settings.sudo_minutes, self.audit,
                                 self.settings.base_url + SUDO_API_PATH)
        if self.limits is None:
            default = Limits(self.settings.lab_memory, self.settings.lab_cpus)
            self.limits = LimitsService(self.store, self.audit, default)
        if self.exits is None:
            self.exits = ExitReports(self.operations, self.audit)
        if self.usage is None:
            self.usage = UsageCollector(self.docker, self.settings.usage_interval,
                                        sizes=self.volume_sizes)

    def __deepcopy__(self, memo: dict) -> Runtime:
        # traitlets deep-copies the config; the runtime (thread pool, client) is one shared object.
        return self
