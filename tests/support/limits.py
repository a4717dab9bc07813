"""Helpers for limit tests: groups through the hub's API, containers' limits and the event log."""

from __future__ import annotations

from tests.support.hub import PREFIX

MIB = 1024**2


def make_group(hub, name: str, *members: str) -> None:
    r = hub.api("POST", f"groups/{name}")
    assert r.status_code in (201, 409), r.text
    if members:
        r = hub.api("POST", f"groups/{name}/users", json={"users": list(members)})
        assert r.status_code == 200, r.text


def container_limits(docker_client, user: str) -> tuple[int, int, int]:
    """(Memory, MemorySwap, NanoCpus) of the user's lab container."""
    host = docker_client.containers.get(f"{PREFIX}jupyterlab-{user}").attrs["HostConfig"]
    return host["Memory"], host["MemorySwap"], host["NanoCpus"]


def events(hub, kind: str, target: str | None = None) -> list[tuple]:
    """(actor, target, detail, ok) rows of the portal's event log, oldest first."""
    rows = hub.sql("portal", "SELECT actor, target, detail, ok FROM audit_events"
                   " WHERE kind = :kind ORDER BY id", kind=kind)
    return [r for r in rows if target is None or r[1] == target]


def set_limits(admin, group: str, memory: str, cpus: str):
    return admin.post("portal/admin/limits", {"group": group, "memory": memory, "cpus": cpus})


def api_limits(hub) -> dict:
    r = hub.api("GET", "../portal/api/limits")
    assert r.status_code == 200, r.text
    return r.json()
