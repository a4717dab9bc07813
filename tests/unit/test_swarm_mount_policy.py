"""Swarm labs get the single-engine mount policy, not a check of the exact socket path.

A Swarm service's mounts used to drop only a source spelled `/var/run/docker.sock`: `/var/run`,
`/`, containerd's socket, paths with `..` and local volumes whose `device` is such a path all
reached the lab, and with them the node's engine (root on that node).
"""

from __future__ import annotations

import pytest
from docker.types import Mount

from portal.lab import container_policy
from portal.swarm import service as swarm_service
from tests.unit.test_swarm_spawner import make, node, service_kwargs

ENGINE_PATHS = ["/var/run", "/run/", "/", "/var", "/run/containerd/containerd.sock",
                "/var/run/containerd/containerd.sock", "/var/run/../run/docker.sock",
                "/run/./docker.sock", "//run//docker.sock", "/srv/../run/docker.sock",
                "/var/lock/../docker.sock", "/srv/../etc"]


def lab_mounts(spawner, extra=()) -> list[dict]:
    return service_kwargs(spawner, node("n1"), extra)["task_template"]["ContainerSpec"]["Mounts"]


@pytest.mark.parametrize("source", ENGINE_PATHS)
def test_engine_paths_never_reach_a_swarm_lab(source):
    for groups in ((), ("docker-sock",)):
        # As an admin would configure them: a host path in `volumes`, and explicit mounts.
        spawner = make(groups=groups, volumes={source: "/x", "/srv/data": {
            "bind": "/data", "mode": "ro"}})
        device = Mount(target="/z", source="bound", type="volume", driver_config={
            "Name": "local", "Options": {"type": "none", "o": "bind", "device": source}})
        mounts = lab_mounts(spawner, [Mount(target="/y", source=source, type="bind"), device])
        targets = {m["Target"]: m["Source"] for m in mounts}
        assert "/x" not in targets and "/y" not in targets and "/z" not in targets, targets
        assert targets["/data"] == "/srv/data"
        socket = [m for m in mounts if m["Target"] == "/var/run/docker.sock"]
        assert len(socket) == (1 if groups else 0)


def test_swarm_and_one_engine_share_one_policy():
    assert swarm_service.safe_mounts is container_policy.safe_mounts


@pytest.mark.parametrize("source", ["/srv/run", "/var/lib/data", "/running", "/home/run"])
def test_ordinary_host_paths_stay_in_a_swarm_lab(source):
    targets = {m["Target"] for m in lab_mounts(make(volumes={source: "/x"}))}
    assert "/x" in targets
