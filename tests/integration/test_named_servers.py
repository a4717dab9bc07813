"""Named servers on the real hub and engine (issue 25; scripts/test.sh runs this file on
JupyterHub 5.5 too): a user adds a second server on the portal; both run as separate
containers, each with its own workspace and the user's home; the named lab answers through the
proxy (its own OAuth client) and is sampled for usage on its own; a broadcast to the user
reaches both labs; idle culling stops the idle named server while the active default one runs
on; deleting it removes its container and workspace only, and the default server runs on
untouched."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from tests.support.clients import Portal, ensure_running, ensure_stopped, named_state
from tests.support.hub import PREFIX
from tests.support.limits import events, make_group


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
        # Each server is sampled on its own: the named card shows its own usage line.
        deadline = time.monotonic() + 30
        while "second" not in (usage := user.get(
                f"portal/api/users/{user.name}/usage", htmx=False).json())["servers"]:
            assert time.monotonic() < deadline, usage
            time.sleep(0.5)
        assert usage["usage"] is not None  # the default server's, apart
        card = user.get(f"portal/users/{user.name}/servers/second/card").text
        assert 'class="server-usage' in card, card

        # A broadcast to the user reaches each of their labs, the result naming the server.
        r = hub.api("POST", "../portal/api/broadcasts", json={
            "message": "To both labs", "recipients": {"users": [user.name]}})
        assert r.status_code == 200, r.text
        results = {x["server"]: (x["ok"], x["reason"]) for x in r.json()["results"]}
        assert results == {"": (True, "delivered"), "second": (True, "delivered")}, results

        cull_idle_named_server_keep_the_active_default(hub, user)
        r = user.post(f"portal/users/{user.name}/servers/second/delete", {"confirm": "yes"})
        assert r.status_code == 200 and "Server second deleted" in r.text, r.text
        names = {v.name for v in docker_client.volumes.list(filters={"name": base})}
        assert f"{base}--second_workspace" not in names
        assert {f"{base}_home", f"{base}_workspace", f"{base}_cache"} <= names
        assert not docker_client.containers.list(all=True, filters={"name": f"{base}--"})
        assert docker_client.containers.get(base).status == "running"  # untouched
    finally:
        hub.api("PUT", "../portal/api/culling", json={"idle_after": "0"})
        ensure_stopped(user)


def cull_idle_named_server_keep_the_active_default(hub, user: Portal, server: str = "second",
                                                  exempt: tuple[str, ...] = ()) -> None:
    """A short idle time: the named `server` (no activity since its start) is warned in its lab
    and stopped, each audited with its name; the default one, reporting activity as a lab
    does, runs on. `exempt`: groups whose servers the short idle time must not stop (other
    users' servers the caller still needs). The policy is off again once the named server has
    stopped (the caller's clean-up sets it off too, should a step fail first)."""
    def default_active() -> None:
        now = datetime.now(UTC).isoformat()
        r = hub.api("POST", f"users/{user.name}/activity",
                    json={"servers": {"": {"last_activity": now}}})
        assert r.status_code == 200, r.text

    default_active()  # before the policy: its change brings a pass at once
    r = hub.api("PUT", "../portal/api/culling", json={"idle_after": "20s", "warning": "10s",
                                                      "exempt_groups": list(exempt)})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 90
    while not any(e[2].startswith("stopped") for e in events(hub, "cull", user.name)):
        assert time.monotonic() < deadline, events(hub, "cull", user.name)
        default_active()
        time.sleep(1)
    # Off at once: the default server is no longer kept active from here, and a loaded machine
    # took over 10 s for the checks below, long enough for its own warning (run 64, Swarm).
    r = hub.api("PUT", "../portal/api/culling", json={"idle_after": "0"})
    assert r.status_code == 200, r.text
    assert named_state(user, server, {"stopped"}) == "stopped"
    culls = [e[2] for e in events(hub, "cull", user.name)]
    warned = [e for e in events(hub, "cull", user.name) if e[2].startswith("warned")]
    assert warned and f"(server {server!r})" in warned[0][2] and warned[0][3], warned
    assert all(f"(server {server!r})" in c for c in culls), culls  # never the default server
    r = user.get(f"portal/users/{user.name}/card")
    assert re.findall(r'data-state="(\w+)"', r.text)[0] == "running"
