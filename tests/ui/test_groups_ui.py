"""In Chromium: an admin grants and revokes Docker access with the search-as-you-type picker."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in


def test_admin_adds_and_removes_a_member_without_reloading(hub, browser, make_user):
    user = make_user("picked")
    page = browser.new_page()
    sign_in(page, hub, "admin")
    page.goto(hub.hub_url("portal/admin"))
    page.evaluate("window.__noReload = true")
    group = page.get_by_role("article", name="Group docker-sock")
    expect(group.get_by_role("note")).to_contain_text("root on the host")

    picker = group.get_by_label("User to add to docker-sock")
    picker.press_sequentially(user.name[:5], delay=30)
    expect(page.locator(f'#user-options option[value="{user.name}"]')).to_have_count(1)
    picker.fill(user.name)
    group.get_by_role("button", name="Add").click()
    notice = page.locator("#groups-notice").get_by_role("status")
    expect(notice).to_contain_text(f"{user.name} added to docker-sock")
    group = page.get_by_role("article", name="Group docker-sock")
    expect(group.get_by_role("listitem").filter(has_text=user.name)).to_be_visible()
    page.get_by_text("Recent membership changes").click()
    expect(page.get_by_role("cell", name=f"added {user.name} to docker-sock")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "admin-groups.png"), full_page=True)

    group.get_by_role("button", name=f"Remove {user.name} from docker-sock").click()
    expect(notice).to_contain_text(f"{user.name} removed from docker-sock")
    expect(page.get_by_role("article", name="Group docker-sock")
           .get_by_role("listitem").filter(has_text=user.name)).to_have_count(0)
    assert page.evaluate("window.__noReload") is True  # htmx swaps, no page reload
