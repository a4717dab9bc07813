"""Named servers on the real hub and engine (issue 25; scripts/test.sh runs this file on
JupyterHub 5.5 too): a user adds a second server on the portal; both run as separate
containers, each with its own workspace and the user's home; the named lab answers through the
proxy (its own OAuth client); stopping and deleting it removes its container and workspace
only, and the default server runs on untouched."""

from __future__ import annotations

from tests.support.clients import ensure_running, ensure_stopped, named_state
from tests.support.hub import PREFIX
from tests.support.limits import make_group


def volumes_of(container) -> dict[str, str]:
    return {m["Name"]: m["Destination"] for m in container.attrs["Mounts"]
            if m["Type"] == "volume"}


def test_a_second_server_runs_beside_the_default_one_then_goes(hub, make_user, docker_client):
    user = make_user("nmreal")
    make_group(hub, "nm-real", user.name)
    r = hub.api("PUT", "../portal/api/limits/groups/nm-real", json={"named_servers": 1})
    assert r.status_code == 200, r.text
    base = f"{PREFIX}jupyterlab-{user.name}"
    ensure_running(user)
    try:
        r = user.post(f"portal/users/{user.name}/servers", {"name": "second"})
        assert r.status_code == 200 and "Server second added" in r.text, r.text
        assert named_state(user, "second", {"running", "failed"}) == "running"
        default = docker_client.containers.get(base)
        named = docker_client.containers.get(f"{base}--second")
        assert default.id != named.id and named.status == "running"
        assert volumes_of(named) == {
            f"{base}_home": "/home", f"{base}--second_workspace": "/home/lab/workspace",
            f"{base}_cache": "/home/lab/.cache", f"{PREFIX}shared": "/mnt/shared"}
        assert volumes_of(default)[f"{base}_workspace"] == "/home/lab/workspace"
        # The named lab answers through the proxy, signed in by its own OAuth client.
        lab = user.s.get(f"{hub.url}user/{user.name}/second/lab", timeout=60)
        assert lab.status_code == 200 and "JupyterLab" in lab.text, (lab.status_code, lab.url)
        env = dict(e.split("=", 1) for e in named.attrs["Config"]["Env"])
        assert env["JUPYTERHUB_CLIENT_ID"] == f"jupyterhub-server-6-second-{user.name}"

        r = user.post(f"portal/users/{user.name}/servers/second/stop", {})
        assert r.status_code == 200, r.text
        assert named_state(user, "second", {"stopped"}) == "stopped"
        r = user.post(f"portal/users/{user.name}/servers/second/delete", {"confirm": "yes"})
        assert r.status_code == 200 and "Server second deleted" in r.text, r.text
        names = {v.name for v in docker_client.volumes.list(filters={"name": base})}
        assert f"{base}--second_workspace" not in names
        assert {f"{base}_home", f"{base}_workspace", f"{base}_cache"} <= names
        assert not docker_client.containers.list(all=True, filters={"name": f"{base}--"})
        assert docker_client.containers.get(base).status == "running"  # untouched
    finally:
        ensure_stopped(user)
