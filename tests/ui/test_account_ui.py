"""In Chromium: My account from the portal's menu, a refused and then a successful password
change, and signing in with the new one; the admin's table shows a disabled account; after an
admin's reset, the temporary password leads to the new-password page (checked by axe-core)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.clients import PASSWORD
from tests.ui.axe import violations
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import admin_row, sign_in

NEW = "Ui-new-password-2026"


def test_my_account_changes_the_password_and_the_admin_table_shows_account_states(
        hub, browser, make_user, admin):
    user = make_user("uiaccount")
    page = browser.new_page()
    sign_in(page, hub, user.name)
    page.get_by_role("navigation", name="Portal sections").get_by_role(
        "link", name="My account").click()
    expect(page).to_have_url(re.compile(r"/hub/portal/account$"))
    expect(page.get_by_role("link", name=re.compile("token page"))).to_have_attribute(
        "href", re.compile(r"/hub/token$"))
    form = page.locator("#account-password")
    form.get_by_label("Current password").fill("not-my-password")
    form.get_by_label("New password", exact=True).fill(NEW)
    form.get_by_label("New password again").fill(NEW)
    form.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-result")).to_contain_text("current password was incorrect")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-result")).to_contain_text("Your password has been changed")
    page.screenshot(path=str(SCREENSHOTS / "my-account.png"), full_page=True)
    # The session goes on; signed out, the new password signs in.
    page.goto(hub.hub_url("portal/account"))
    expect(page).to_have_url(re.compile(r"/hub/portal/account$"))
    page.goto(hub.hub_url("logout"))
    sign_in(page, hub, user.name, NEW)
    expect(page).to_have_url(re.compile(r"/hub/portal$"))
    page.close()

    # The admin disables the account from the table: a badge, and Enable in place of Disable.
    board, row = admin_row(browser, hub, user.name)
    board.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Disable {user.name}").click()
    expect(board.locator("#account-result")).to_contain_text(f"{user.name} is disabled")
    expect(row.locator(".account-state")).to_have_text("disabled")
    expect(row.get_by_role("button", name=f"Enable {user.name}")).to_be_visible()
    board.locator("#admin-users").screenshot(path=str(SCREENSHOTS / "admin-accounts.png"))
    row.get_by_role("button", name=f"Enable {user.name}").click()
    expect(board.locator("#account-result")).to_contain_text("can sign in again")

    # A reset: the temporary password works once, on the page that asks for a new one (which
    # axe-core checks), and the new one opens the portal.
    board.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Reset password of {user.name}").click()
    temporary = board.locator(f'code.temporary-password[data-user="{user.name}"]')
    expect(temporary).to_be_visible()
    passphrase = temporary.inner_text()
    board.close()
    page = browser.new_page()
    sign_in(page, hub, user.name, passphrase)
    expect(page).to_have_url(re.compile(r"/hub/portal/account/new-password$"))
    assert violations(page) == []
    page.get_by_label("New password", exact=True).fill(NEW + "-2")
    page.get_by_label("New password again").fill(NEW + "-2")
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/hub/portal$"))
    page.close()
