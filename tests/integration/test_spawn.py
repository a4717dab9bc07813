"""A user's real container: names, mounts, environment, stop, hub restart (real hub + Docker)."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.clients import (
    PASSWORD,
    Portal,
    ensure_running,
    signup,
    user_path,
    wait_state,
)
from tests.support.hub import PREFIX, ROOT, VENV_BIN, Hub, containers_named


@pytest.fixture(scope="module")
def john(hub, admin) -> Portal:
    r = admin.post("portal/admin/users", {"username": "john.doe", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return Portal(hub, "john.doe")


def test_container_has_exactly_the_configured_mounts_and_environment(john, docker_client, hub):
    ensure_running(john)
    container = docker_client.containers.get(f"{PREFIX}jupyterlab-john-2edoe")
    mounts = {
        m["Destination"]: (m["Type"], m.get("Name"), m["RW"]) for m in container.attrs["Mounts"]
    }
    assert mounts == {
        "/home": ("volume", f"{PREFIX}jupyterlab-john-2edoe_home", True),
        "/home/lab/workspace": ("volume", f"{PREFIX}jupyterlab-john-2edoe_workspace", True),
        "/home/lab/.cache": ("volume", f"{PREFIX}jupyterlab-john-2edoe_cache", True),
        "/mnt/shared": ("volume", f"{PREFIX}shared", True),
    }
    host = container.attrs["HostConfig"]
    assert not any("docker.sock" in b for b in host["Binds"] or [])
    assert host["Privileged"] is False
    assert host["NetworkMode"] == "host"
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
    assert env["ENABLE_SERVICE_MLFLOW"] == "1"
    assert env["ENABLE_SERVICE_GLANCES"] == "0"
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert env["ENABLE_GPU_SUPPORT"] == "0"
    assert env["NVIDIA_DETECTED"] == "0"
    assert env["JUPYTERHUB_SERVICE_URL"].startswith("http://127.0.0.1:")
    # The lab runs as `lab` in the workspace, reachable through the proxy.
    r = john.s.get(f"{hub.url}user/john.doe/lab", timeout=30)
    assert r.status_code == 200 and "JupyterLab" in r.text


def test_stop_removes_the_container_and_keeps_the_volumes(john, docker_client):
    ensure_running(john)
    subprocess.run(
        ["docker", "exec", f"{PREFIX}jupyterlab-john-2edoe", "sh", "-c",
         "echo kept > /home/lab/workspace/kept.txt"], check=True,
    )
    r = john.post(f"portal/users/{user_path(john.name)}/stop")
    assert r.status_code == 200, r.text
    assert wait_state(john, john.name, {"stopped"}) == "stopped"
    names = containers_named(docker_client)
    assert f"{PREFIX}jupyterlab-john-2edoe" not in names
    volumes = {v.name for v in docker_client.volumes.list()}
    assert {f"{PREFIX}jupyterlab-john-2edoe_home", f"{PREFIX}jupyterlab-john-2edoe_workspace",
            f"{PREFIX}jupyterlab-john-2edoe_cache", f"{PREFIX}shared"} <= volumes
    ensure_running(john)
    out = subprocess.run(
        ["docker", "exec", f"{PREFIX}jupyterlab-john-2edoe", "cat",
         "/home/lab/workspace/kept.txt"], check=True, capture_output=True, text=True,
    )
    assert out.stdout.strip() == "kept"


def test_hub_restart_keeps_a_running_server_reachable(hub, make_user, docker_client):
    user = make_user("restartee")
    ensure_running(user)
    before = docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}").id
    hub.restart()
    r = user.s.get(f"{hub.url}user/{user.name}/api/status", timeout=30, allow_redirects=False)
    assert r.status_code in (200, 302, 403), r.status_code  # the lab answered, not the proxy
    assert "JupyterLab" in user.s.get(f"{hub.url}user/{user.name}/lab", timeout=30).text
    assert docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}").id == before
    assert wait_state(user, user.name, {"running"}) == "running"


def test_signup_off_only_admins_create_accounts(tmp_path, docker_client):
    hub = Hub(tmp_path / "nosignup", base_url="/", env={"ENABLE_SIGNUP": "0"})
    hub.start()
    try:
        assert requests.get(hub.hub_url("signup"), timeout=10).status_code == 404
        assert signup(hub, "mallory").status_code == 404
        login_page = requests.get(hub.hub_url("login"), timeout=10).text
        assert "signup" not in login_page.lower()
        # The first admin comes from a shell on the hub, the rest from the portal.
        subprocess.run(
            [str(VENV_BIN / "dshub-add-user"), "admin", "--password-stdin"],
            input=PASSWORD + "\n", text=True, check=True,
            env={**hub.env(), "JUPYTERHUB_DATA_DIR": str(hub.data_dir)},
        )
        admin = Portal(hub, "admin")
        r = admin.post("portal/admin/users", {"username": "carol", "password": PASSWORD})
        assert r.status_code == 200, r.text
        carol = Portal(hub, "carol")
        assert carol.get("portal", htmx=False).status_code == 200
        # A non-admin cannot create accounts.
        r = carol.post("portal/admin/users", {"username": "eve", "password": PASSWORD})
        assert r.status_code == 403
        with pytest.raises(AssertionError):
            Portal(hub, "eve")
    finally:
        hub.stop()


def test_spawn_progress_reaches_the_hub_progress_api_and_the_card(hub, make_user):
    user = make_user("progress")
    r = user.post(f"portal/users/{user.name}/start")
    assert r.status_code == 200, r.text
    phases = {"Preparing your server", "Checking the lab image", "Creating your container",
              "Starting your container", "Waiting for JupyterLab to answer"}
    assert any(p in r.text for p in phases | {"Starting your server"})
    messages = []
    with hub.api("GET", f"users/{user.name}/server/progress", stream=True, timeout=90) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                messages.append(event.get("message", ""))
                if event.get("ready") or event.get("failed"):
                    break
    assert phases & set(messages), messages
    assert wait_state(user, user.name, {"running"}) == "running"


@pytest.mark.parametrize("variable,value", [("ENABLE_GPU_SUPPORT", "5"), ("ENABLE_SIGNUP", "yes")])
def test_a_bad_variable_stops_the_hub_with_one_line(tmp_path, variable, value):
    env = Hub(tmp_path / "bad").env()
    env[variable] = value
    done = subprocess.run(
        [str(VENV_BIN / "jupyterhub"), "-f", str(ROOT / "config" /
                                                           "jupyterhub_config.py")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith(f"DS Hub cannot start: {variable}={value!r} is not valid:"), lines
    assert "Traceback" not in done.stderr


def test_hub_pages_link_to_the_portal(hub, make_user):
    user = make_user("linked")
    base = urlsplit(hub.url).path  # the configured base URL, e.g. /ds%20hub/
    for page in ("home", "token", "portal"):
        html = user.get(page, htmx=False).text
        assert f'href="{base}hub/portal"' in html, page
