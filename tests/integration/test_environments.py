"""Environments on the real engine (issue 25): the two real lab images as two environments, a
start in one, a switch into the other (a re-creation from the other image, the same volumes), and
the card following. The admin pages, bad input and refused choices: tests/inprocess/
test_environments.py."""

from __future__ import annotations

import html
import re
import time

from tests.support.clients import ensure_stopped, wait_state
from tests.support.hub import PREFIX, containers_named
from tests.support.limits import make_group

MARK = "DSHUB_ENVIRONMENT_MARK"
KEPT = "/home/lab/workspace/kept-across-environments.txt"


def _lab(docker_client, user: str):
    return docker_client.containers.get(f"{PREFIX}jupyterlab-{user}")


def _env_of(container) -> dict[str, str]:
    return dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])


def test_start_in_one_image_then_switch_to_the_other_keeping_the_volumes(
        hub, admin, make_user, docker_client):
    user = make_user("envswitch")
    make_group(hub, "env-int", user.name)  # only its members see these two
    for name, image in (("int-lab", "dshub-lab"), ("int-noext", "dshub-lab-noext:latest")):
        r = hub.api("PUT", f"../portal/api/environments/{name}", json={
            "image": image, "description": f"The {image} image", "groups": ["env-int"],
            "variables": {MARK: name}})
        assert r.status_code == 200, r.text
    try:
        card = html.unescape(user.get(f"portal/users/{user.name}/card").text)
        assert re.findall(r'<option value="(int-[a-z]+)"', card) == ["int-lab", "int-noext"]
        r = user.post(f"portal/users/{user.name}/start", {"environment": "int-lab"})
        assert r.status_code == 200, r.text
        assert wait_state(user, user.name, {"running", "failed"}) == "running"
        first = _lab(docker_client, user.name)
        assert first.attrs["Config"]["Image"] == "dshub-lab:latest"
        assert _env_of(first)[MARK] == "int-lab"
        card = user.get(f"portal/users/{user.name}/card").text
        assert 'data-environment="int-lab"' in card and "Switch environment" in card
        assert first.exec_run(["sh", "-c", f"echo kept > {KEPT}"]).exit_code == 0
        volumes = sorted(m["Name"] for m in first.attrs["Mounts"] if m["Type"] == "volume")

        # The switch: a re-creation from the other image, with the same volumes.
        r = user.post(f"portal/users/{user.name}/recreate", {"environment": "int-noext"})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            found = containers_named(docker_client, stopped_too=False)
            if found.get(f"{PREFIX}jupyterlab-{user.name}") not in (None, first.id):
                break
            time.sleep(0.5)
        assert wait_state(user, user.name, {"running", "failed"}) == "running"
        second = _lab(docker_client, user.name)
        assert second.id != first.id
        assert second.attrs["Config"]["Image"] == "dshub-lab-noext:latest"
        assert _env_of(second)[MARK] == "int-noext"
        assert sorted(m["Name"] for m in second.attrs["Mounts"]
                      if m["Type"] == "volume") == volumes
        assert second.exec_run(["cat", KEPT]).output.strip() == b"kept"
        r = user.s.get(user.url(f"portal/api/users/{user.name}/server"), timeout=30)
        assert r.json()["environment"] == "int-noext", r.text

        # Stopped, the card offers the last one first.
        ensure_stopped(user)
        card = html.unescape(user.get(f"portal/users/{user.name}/card").text)
        assert re.findall(r'<option value="(int-[a-z]+)"( selected)?', card) == [
            ("int-lab", ""), ("int-noext", " selected")]
    finally:
        ensure_stopped(user)
        for name in ("int-lab", "int-noext"):
            hub.api("DELETE", f"../portal/api/environments/{name}")
