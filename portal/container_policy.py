"""Owns the last word on a lab container's host settings: Docker access, GPUs, limits, removal.

Whatever the volumes, `extra_host_config` or the image say, the socket bind and the privileged
flag follow group membership, the GPU request follows the hub's decision and memory and CPU
follow the portal's limits (portal/limits.py). (Other host
settings, e.g. capabilities or devices, are the admin's configuration and are not filtered.)
"""

from __future__ import annotations

from typing import Any

from .docker_types import DOCKER_SOCKET, is_socket_path

NVIDIA_DEVICES = {"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}
# Watchtower must never recreate a lab under its user, whatever scope it runs with.
WATCHTOWER_LABEL = "com.centurylinklabs.watchtower.enable"


def enforce_host_config(host_config: dict[str, Any], *, docker_socket: bool, privileged: bool,
                        gpu: bool, memory: int | None = None, cpus: float | None = None) -> None:
    """Rewrite `host_config` in place for the create call (memory in bytes; None: no limit)."""
    binds = [b for b in host_config.get("Binds") or [] if not _mounts_socket(b)]
    mounts = [
        m for m in host_config.get("Mounts") or [] if not is_socket_path(m.get("Source") or "")
    ]
    if docker_socket:
        binds.append(f"{DOCKER_SOCKET}:{DOCKER_SOCKET}:rw")
    host_config["Binds"] = binds
    host_config["Mounts"] = mounts
    host_config["Privileged"] = privileged
    # Keep the container on stop so `docker restart` keeps it; the hub removes it on stop.
    host_config["AutoRemove"] = False
    requests = [r for r in host_config.get("DeviceRequests") or [] if r.get("Driver") != "nvidia"]
    if gpu:
        requests.append(dict(NVIDIA_DEVICES))
    host_config["DeviceRequests"] = requests or None
    # Memory without extra swap (swap limit = memory limit); CPU as a quota of CPU time.
    host_config["Memory"] = memory or 0
    host_config["MemorySwap"] = memory or 0
    for key in ("CpuQuota", "CpuPeriod", "CpuShares"):
        host_config.pop(key, None)
    host_config["NanoCpus"] = int(round(cpus * 1e9)) if cpus else 0


def with_watchtower_opt_out(labels: Any) -> dict[str, str]:
    """The container's labels (a dict or a list of names) plus Watchtower's opt-out."""
    labels = dict(labels) if isinstance(labels, dict) else dict.fromkeys(labels or [], "")
    return {**labels, WATCHTOWER_LABEL: "false"}


def _mounts_socket(bind: str) -> bool:
    return any(is_socket_path(p) for p in bind.split(":")[:2])
