"""In Chromium: the owner shares their running server from the card with another user, who
finds it under "Shared with me", opens it (approving the hub's OAuth page once, as the lab is
not their own) and lands in JupyterLab; the owner then revokes it (issue 25)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.clients import ensure_running, ensure_stopped
from tests.support.page_settled import SETTLED
from tests.ui.axe import violations
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in


def test_share_from_the_card_and_the_friend_opens_it(hub, browser, make_user):
    owner, friend = make_user("uishare"), make_user("uifriend")
    ensure_running(owner)
    try:
        page = browser.new_page()
        sign_in(page, hub, owner.name)
        card = page.get_by_role("region", name=f"Server of {owner.name}")
        expect(card.get_by_role("status")).to_have_text("Running")
        card.get_by_text("Share this server…").click()
        card.get_by_label("Name").fill(friend.name)
        card.get_by_role("button", name="Share", exact=True).click()
        shared = card.get_by_role("list", name="Shared with")
        expect(shared).to_contain_text(friend.name)
        expect(card.get_by_role("status").filter(has_text="Shared with")).to_have_text(
            f"Shared with user {friend.name}.")
        page.wait_for_function(SETTLED)
        assert violations(page) == []
        card.screenshot(path=str(SCREENSHOTS / "card-sharing.png"))

        visitor = browser.new_page()
        sign_in(visitor, hub, friend.name)
        mine = visitor.get_by_role("region", name="Shared with me")
        expect(mine).to_contain_text(f"{owner.name}'s server")
        visitor.wait_for_function(SETTLED)
        assert violations(visitor) == []
        mine.screenshot(path=str(SCREENSHOTS / "shared-with-me.png"))
        mine.get_by_role("link", name=f"Open {owner.name}'s server").click()
        # The hub asks the visitor once whether this lab, not their own, may identify them.
        visitor.get_by_role("button", name="Authorize").click()
        expect(visitor).to_have_url(re.compile(rf"/user/{owner.name}/lab"), timeout=60_000)
        expect(visitor.locator("#jp-main-dock-panel")).to_be_visible(timeout=60_000)
        visitor.close()

        shared.get_by_role("button", name=f"Revoke the share with user {friend.name}").click()
        expect(card.get_by_text("Not shared with anyone.")).to_be_visible()
        page.close()
    finally:
        ensure_stopped(owner)
