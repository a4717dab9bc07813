"""Owns the last word on a lab container's host settings: Docker access, GPUs, limits, removal.

Whatever the volumes, `extra_host_config` or the image say, the socket bind and the privileged
flag follow group membership, the GPU request follows the hub's decision, and memory and CPU
follow the portal's limits (portal/governance/limits.py). Binds and mounts
are checked by normalised path: the engine's socket in any spelling, containerd's, anything
else under /run (= /var/run) and the parents `/` and `/var` never come from configuration;
`VolumesFrom` (another container's mounts, unchecked) is dropped. (Other host settings, e.g.
capabilities or devices, are the admin's configuration and are not filtered.)
"""

from __future__ import annotations

from logging import Logger
from typing import Any

from traitlets import Bool

from ..docker.types import DOCKER_SOCKET, is_engine_path, is_socket_path

NVIDIA_DEVICES = {"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}
# Watchtower must never recreate a lab under its user, whatever scope it runs with.
WATCHTOWER_LABEL = "com.centurylinklabs.watchtower.enable"
# The spawner's settings on GPUs and removal, assigned in PortalSpawner's body.
GPU_ENABLED = Bool(
    False,
    help="Request all NVIDIA GPUs for the container. With the portal set up, each start "
    "follows the hub's decision (ENABLE_GPU_SUPPORT, detection at hub start).",
).tag(config=True)
GPU_DETECTED = Bool(False, help="The hub's probe found NVIDIA GPUs (NVIDIA_DETECTED=1).")
KEEP_FAILED = Bool(
    False,
    help="Keep a container whose start failed, to inspect it (tests, debugging). It never "
    "ran; the next start removes it before creating a new one.",
).tag(config=True)


def finish_create(kwargs: dict[str, Any], access: tuple[bool, bool], gpu: bool,
                  memory: int | None, cpus: float | None, log: Logger, user: str) -> None:
    """The last word on DockerSpawner's `create_container` call (its kwargs, in place): access
    (socket, privileged) from the groups, GPUs from the hub's decision, the groups' limits."""
    host_config = kwargs.setdefault("host_config", {})
    sock, privileged = access
    dropped = enforce_host_config(host_config, docker_socket=sock, privileged=privileged,
                                  gpu=gpu, memory=memory, cpus=cpus)
    if dropped:
        log.warning("Container for %s: left out (they reach the Docker engine): %s", user,
                    "; ".join(dropped))
    log.info("Container for %s: docker socket %s, privileged %s, gpu %s, memory %s, cpus %s",
             user, *("yes" if flag else "no" for flag in (sock, privileged, gpu)),
             memory or "no limit", cpus or "no limit")
    # A dropped bind leaves no mount point behind (Docker would put an anonymous volume there).
    bound = {b.split(":")[1] for b in host_config["Binds"] if b.count(":") >= 1}
    if kwargs.get("volumes"):
        kwargs["volumes"] = [v for v in kwargs["volumes"] if v in bound]
    kwargs["labels"] = with_watchtower_opt_out(kwargs.get("labels"))


def always_removed(remove: bool, log: Logger) -> bool:
    """`remove` as it must be: True (a stopped container goes; volumes stay), said once."""
    if not remove:
        log.warning("PortalSpawner.remove=False is ignored: containers are removed on stop "
                    "(keep_failed_containers keeps failed starts for inspection)")
    return True


def lab_env(gpu: bool, detected: bool, memory: int | None, cpus: float | None) -> dict[str, str]:
    """What the lab images read: the GPU decision really taken (2 resolves to 0 or 1), and the
    limits under JupyterHub's names (the lab's own resource displays)."""
    env = {"ENABLE_GPU_SUPPORT": "1" if gpu else "0", "NVIDIA_DETECTED": "1" if detected else "0"}
    if memory:
        env["MEM_LIMIT"] = str(memory)
    if cpus:
        env["CPU_LIMIT"] = f"{cpus:g}"
    return env


def enforce_host_config(host_config: dict[str, Any], *, docker_socket: bool, privileged: bool,
                        gpu: bool, memory: int | None = None,
                        cpus: float | None = None) -> list[str]:
    """Rewrite `host_config` in place for the create call (memory in bytes, CPUs; None: no
    limit); return what was dropped."""
    dropped: list[str] = []
    binds = []
    for bind in host_config.get("Binds") or []:
        (dropped if _bind_reaches_engine(bind) else binds).append(bind)
    mounts, left_out = safe_mounts(host_config.get("Mounts") or [])
    dropped += left_out
    if host_config.get("VolumesFrom"):
        dropped.append(f"volumes from {', '.join(host_config['VolumesFrom'])}")
    host_config["VolumesFrom"] = None
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
    return dropped


def safe_mounts(mounts: list[Any]) -> tuple[list[Any], list[str]]:
    """(the mounts that keep away from the engine, what was left out): a container's
    `Mounts` and a Swarm service's alike (the same dicts: Source, Target, VolumeOptions)."""
    kept, dropped = [], []
    for mount in mounts:
        if _mount_reaches_engine(mount):
            dropped.append(f"mount {mount.get('Source')}:{mount.get('Target')}")
        else:
            kept.append(mount)
    return kept, dropped


def with_watchtower_opt_out(labels: Any) -> dict[str, str]:
    """The container's labels (a dict or a list of names) plus Watchtower's opt-out."""
    labels = dict(labels) if isinstance(labels, dict) else dict.fromkeys(labels or [], "")
    return {**labels, WATCHTOWER_LABEL: "false"}


def _bind_reaches_engine(bind: str) -> bool:
    source, _, rest = bind.partition(":")
    return is_engine_path(source) or is_socket_path(rest.split(":")[0])


def _mount_reaches_engine(mount: dict[str, Any]) -> bool:
    """A bind mount of an engine path, or a local volume whose driver binds one (`device`)."""
    options = ((mount.get("VolumeOptions") or {}).get("DriverConfig") or {}).get("Options") or {}
    return any(is_engine_path(p or "") for p in (mount.get("Source"), options.get("device")))
