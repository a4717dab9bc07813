"""In Chromium: a user adds a second server on the portal, it starts on its own card (the
default server's card stays stopped), and Open JupyterLab opens that server's lab."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.limits import make_group
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in


def test_add_a_second_server_start_it_and_open_it(hub, browser, make_user):
    user = make_user("nmui")
    make_group(hub, "nm-ui", user.name)
    r = hub.api("PUT", "../portal/api/limits/groups/nm-ui", json={"named_servers": 2})
    assert r.status_code == 200, r.text
    page = browser.new_page()
    try:
        sign_in(page, hub, user.name)
        default = page.get_by_role("region", name=f"Server of {user.name}")
        expect(default.get_by_role("status")).to_have_text("Stopped")
        page.get_by_label("New server").fill("Bad_Name")
        page.get_by_role("button", name="Add a server").click()
        # The browser's own check (the pattern) stops it first; the hub's rule is the same.
        expect(page.locator(".server-card")).to_have_count(1)
        page.get_by_label("New server").fill("second")
        page.get_by_role("button", name="Add a server").click()
        card = page.get_by_role("region", name=f"Server second of {user.name}")
        expect(page.locator("#servers-notice")).to_contain_text("Server second added")
        expect(card.get_by_role("status")).to_have_text("Running", timeout=90_000)
        expect(default.get_by_role("status")).to_have_text("Stopped")
        expect(page.get_by_text("1 of 2 named servers")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "portal-named-servers.png"))
        card.get_by_role("link", name="Open JupyterLab").click()
        expect(page).to_have_url(re.compile(rf"/user/{user.name}/second/lab"), timeout=60_000)
        expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=60_000)
    finally:
        page.close()
        hub.api("DELETE", f"users/{user.name}/servers/second", json={"remove": True})
