"""In Chromium: an admin grants (confirming their password) and revokes Docker access."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.clients import PASSWORD
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in


def test_admin_adds_and_removes_a_member_without_reloading(hub, browser, make_user):
    user = make_user("picked")
    page = browser.new_page()
    sign_in(page, hub, "admin")
    page.goto(hub.hub_url("portal/admin/groups"))
    page.evaluate("window.__noReload = true")
    group = page.get_by_role("article", name="Group docker-sock")
    expect(group.get_by_role("note")).to_contain_text("root on the host")

    picker = group.get_by_label("User to add to docker-sock")
    picker.press_sequentially(user.name[:5], delay=30)
    expect(page.locator(f'#user-options option[value="{user.name}"]')).to_have_count(1)
    picker.fill(user.name)
    group.get_by_role("button", name="Add").click()
    # Sudo mode: this session has not confirmed the password, so the grant waits for it.
    dialog = page.get_by_role("dialog", name="Confirm your password")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("grants power over the host")
    assert user.name not in hub.api("GET", "groups/docker-sock").json()["users"]
    dialog.get_by_label("Your password").fill("not-the-password")
    dialog.get_by_role("button", name="Confirm and continue").click()
    dialog = page.get_by_role("dialog", name="Confirm your password")
    expect(dialog).to_contain_text("not right")
    assert user.name not in hub.api("GET", "groups/docker-sock").json()["users"]
    page.screenshot(path=str(SCREENSHOTS / "admin-sudo.png"))
    dialog.get_by_label("Your password").fill(PASSWORD)
    dialog.get_by_role("button", name="Confirm and continue").click()
    expect(dialog).to_be_hidden()
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
