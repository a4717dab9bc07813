"""Image updates on the real engine (issue 25): a lab started from a tag of the test's own
(`<prefix>lab:latest`, made with `docker tag`), the tag moved onto the other real image, the card
saying a newer image is available and the admins' Images section counting the server outdated,
then "Re-create to update": a new container from the new image ID with the same volumes and the
workspace's file, and the event log saying so. Refusals and every card state: tests/inprocess/
test_image_updates.py, tests/unit/test_server_state_machine.py."""

from __future__ import annotations

import contextlib
import html
import re
import time

import docker

from tests.support.clients import ensure_stopped, wait_state
from tests.support.hub import PREFIX, containers_named
from tests.support.limits import events, make_group

TAG = f"{PREFIX}lab"  # dshubtest-im-lab(:latest): the test's own tag, removed afterwards
KEPT = "/home/lab/workspace/kept-across-updates.txt"
ENV = "im-update"


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _lab(docker_client, user: str):
    return docker_client.containers.get(f"{PREFIX}jupyterlab-{user}")


def _volumes(container) -> list[str]:
    return sorted(m["Name"] for m in container.attrs["Mounts"] if m["Type"] == "volume")


def _wait_for(condition, bound: float, what: str):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {bound} s: {what}")


def test_moving_the_tag_offers_the_update_which_recreates_from_the_new_image(
        hub, admin, make_user, docker_client):
    old = docker_client.images.get("dshub-lab-noext:latest").id
    new = docker_client.images.get("dshub-lab:latest").id
    assert old != new
    user = make_user("imupdate")
    make_group(hub, "im-int", user.name)  # only its member sees this environment
    assert docker_client.api.tag(old, TAG, "latest")
    try:
        r = hub.api("PUT", f"../portal/api/environments/{ENV}",
                    json={"image": TAG, "groups": ["im-int"]})
        assert r.status_code == 200 and r.json()["image"] == f"{TAG}:latest", r.text
        r = user.post(f"portal/users/{user.name}/start", {"environment": ENV})
        assert r.status_code == 200, r.text
        assert wait_state(user, user.name, {"running", "failed"}) == "running"
        first = _lab(docker_client, user.name)
        assert (first.attrs["Image"], first.attrs["Config"]["Image"]) == (old, f"{TAG}:latest")
        assert first.exec_run(["sh", "-c", f"echo kept > {KEPT}"]).exit_code == 0
        card = user.get(f"portal/users/{user.name}/card").text
        assert "data-newer-image" not in card and "Re-create to update" not in card
        r = user.post(f"portal/users/{user.name}/update", {})
        assert r.status_code == 409 and "Nothing to update" in html.unescape(r.text), r.text

        # Someone builds or loads a new image under the tag: nothing is pulled.
        assert docker_client.api.tag(new, TAG, "latest")

        def newer_card() -> str:
            text = user.get(f"portal/users/{user.name}/card").text
            return text if "data-newer-image" in text else ""

        card = html.unescape(_wait_for(newer_card, 40, "the card saying a newer image"))
        assert f'data-newer-image="{new}"' in card and "Re-create to update" in card
        assert f'image of <strong class="font-monospace">{TAG}:latest</strong>' in card
        assert f"({_short(new)};\n        this server runs {_short(old)})" in card
        state = user.s.get(user.url(f"portal/api/users/{user.name}/server"), timeout=30).json()
        assert (state["image"], state["image_id"], state["newer_image_id"]) == (
            f"{TAG}:latest", old, new)

        # The admins see the old image in use, this server on it outdated.
        page = admin.get("portal/admin/images").text
        row = re.search(rf'<tr data-image="{old}" data-servers="(\d+)" data-outdated="(\d+)">'
                        r"(.*?)</tr>", page, re.S)
        assert row is not None, page
        assert int(row[1]) >= 1 and int(row[2]) >= 1 and user.name in row[3]
        assert f"<code>{TAG}:latest</code> now names <code>{_short(new)}</code>" in row[3]
        [engine] = hub.api("GET", "../portal/api/images").json()["engines"]
        [image] = [i for i in engine["images"] if i["id"] == old]
        assert user.name in image["outdated"] and image["tags_moved"][f"{TAG}:latest"] == new
        assert image["size_bytes"] > 0 and image["created"] > 0

        r = user.post(f"portal/users/{user.name}/update", {})
        assert r.status_code == 200, r.text

        def replaced() -> bool:
            found = containers_named(docker_client, stopped_too=False)
            return found.get(f"{PREFIX}jupyterlab-{user.name}") not in (None, first.id)

        _wait_for(replaced, 90, "a new container")
        assert wait_state(user, user.name, {"running", "failed"}) == "running"
        second = _lab(docker_client, user.name)
        assert second.attrs["Image"] == new and second.attrs["Config"]["Image"] == f"{TAG}:latest"
        assert _volumes(second) == _volumes(first)
        assert second.exec_run(["cat", KEPT]).output.strip() == b"kept"
        card = user.get(f"portal/users/{user.name}/card").text
        assert "data-newer-image" not in card and f'data-environment="{ENV}"' in card
        details = [d for _, _, d, ok in events(hub, "image update", user.name) if ok]
        assert details == [f"requested: {TAG}:latest {_short(old)} -> {_short(new)}"], details
    finally:
        ensure_stopped(user)
        hub.api("DELETE", f"../portal/api/environments/{ENV}")
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.images.remove(f"{TAG}:latest")  # the tag only: both images stay
