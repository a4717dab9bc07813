"""In Chromium: a portal action after the session ended elsewhere leads to the login page and
back to the portal, never to "XSRF cookie does not match" in the page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.clients import PASSWORD
from tests.ui.test_signup_to_lab import sign_in


def test_an_action_after_signing_out_in_another_tab_goes_to_login_and_back(hub, make_user,
                                                                           browser):
    user = make_user("tabs")
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, hub, user.name)
    expect(page).to_have_url(re.compile(r"/hub/portal$"))
    card = page.get_by_role("region", name=f"Server of {user.name}")
    start = card.get_by_role("button", name="Start")
    expect(start).to_be_visible()

    other = context.new_page()
    other.goto(hub.hub_url("logout"))
    expect(other).to_have_url(re.compile(r"/hub/login"))
    other.close()

    start.click()
    expect(page).to_have_url(re.compile(r"/hub/login\?next="))
    assert "does not match" not in page.content()
    # Signing in on that very page leads back to the portal.
    page.get_by_label("Username:").fill(user.name)
    page.get_by_label("Password:").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("#login_submit").click()
    expect(page).to_have_url(re.compile(r"/hub/portal$"))
    expect(card.get_by_role("status")).to_have_text("Stopped")  # the click started nothing
    assert "does not match" not in page.content()
    context.close()
