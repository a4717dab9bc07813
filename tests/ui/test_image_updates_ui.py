"""In Chromium: a running lab whose tag was moved onto another image; the admins' Images section
marks it outdated, its card says a newer image is available, and "Re-create to update" brings it
back up on the new image (issue 25). The containers and volumes: tests/integration/
test_image_updates.py."""

from __future__ import annotations

import contextlib
import time

import docker
from playwright.sync_api import expect

from tests.support.hub import PREFIX
from tests.support.limits import make_group
from tests.support.page_settled import SETTLED
from tests.ui.axe import violations
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in

TAG = f"{PREFIX}ui-lab"
ENV = "im-ui"


def test_the_card_offers_the_update_and_the_admin_sees_the_outdated_server(
        hub, browser, make_user, docker_client):
    old = docker_client.images.get("dshub-lab-noext:latest").id
    new = docker_client.images.get("dshub-lab:latest").id
    user = make_user("imcard")
    make_group(hub, "im-ui", user.name)
    assert docker_client.api.tag(old, TAG, "latest")
    try:
        r = hub.api("PUT", f"../portal/api/environments/{ENV}", json={
            "image": TAG, "description": "The course's lab", "groups": ["im-ui"]})
        assert r.status_code == 200, r.text
        r = hub.api("POST", f"users/{user.name}/server", json={"environment": ENV})
        assert r.status_code in (201, 202), r.text
        page = browser.new_page()
        sign_in(page, hub, user.name)
        card = page.get_by_role("region", name=f"Server of {user.name}")
        expect(card.get_by_role("status")).to_have_text("Running", timeout=90_000)
        expect(card.get_by_role("button", name="Re-create to update")).to_have_count(0)

        assert docker_client.api.tag(new, TAG, "latest")  # a new image under the same tag
        notice = card.get_by_role("note").filter(has_text="A newer image")
        deadline = time.monotonic() + 40
        while not notice.count() and time.monotonic() < deadline:
            time.sleep(1)  # the engine is asked again once the card's lookup is 10 s old
            page.reload()
        expect(notice).to_contain_text(f"{TAG}:latest")
        expect(notice).to_contain_text(new.removeprefix("sha256:")[:12])

        admin = browser.new_page()
        sign_in(admin, hub, "admin")
        admin.goto(hub.hub_url("portal/admin/images"))
        table = admin.get_by_role("table", name="Images on this hub's Docker engine")
        row = table.get_by_role("row").filter(has_text=old.removeprefix("sha256:")[:12])
        expect(row).to_contain_text("outdated")
        expect(row).to_contain_text(user.name)
        admin.wait_for_function(SETTLED)
        assert violations(admin) == []
        admin.get_by_role("region", name="Images in use").screenshot(
            path=str(SCREENSHOTS / "admin-images.png"))
        admin.close()

        page.wait_for_function(SETTLED)
        assert violations(page) == []
        card.screenshot(path=str(SCREENSHOTS / "card-image-update.png"))
        page.once("dialog", lambda dialog: dialog.accept())
        card.get_by_role("button", name="Re-create to update").click()
        expect(card.get_by_role("status")).not_to_have_text("Running", timeout=30_000)
        expect(card.get_by_role("status")).to_have_text("Running", timeout=90_000)
        expect(card.get_by_role("button", name="Re-create to update")).to_have_count(0)
        lab = docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}")
        assert lab.attrs["Image"] == new
    finally:
        hub.api("DELETE", f"users/{user.name}/server")  # a failed check leaves no lab behind
        hub.api("DELETE", f"../portal/api/environments/{ENV}")
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.images.remove(f"{TAG}:latest")  # the tag only: both images stay
