"""In Chromium: setting up two-factor sign-in on My account (the QR code drawn on the hub, the
first code from the "app", the recovery codes shown once), then signing in with the password and
a code on the code page (both pages checked by axe-core); the admin's rule, the table's Clear
2FA, a CSV preview with bad rows and the dormant accounts, photographed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.dormant import idle_for
from tests.support.two_factor import code
from tests.ui.axe import violations
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import admin_row, sign_in


def test_set_up_two_factor_and_sign_in_with_a_code(hub, browser, make_user):
    user = make_user("ui2fa")
    page = browser.new_page()
    sign_in(page, hub, user.name)
    page.goto(hub.hub_url("portal/account"))
    section = page.locator("#account-two-factor")
    expect(section.locator("#two-factor-state")).to_have_text("off")
    section.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = section.locator(".two-factor-qr svg")
    expect(qr).to_be_visible()
    secret = section.locator("#two-factor-secret").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "two-factor-setup.png"), full_page=True)
    assert violations(page) == []  # the set-up form with its QR code, by axe-core
    section.get_by_label("The code your app shows now").fill(code(secret, 0))
    section.get_by_role("button", name="Turn on").click()
    codes = section.locator(".recovery-code")
    expect(codes).to_have_count(10)
    page.reload()
    expect(section.locator("#two-factor-state")).to_have_text("on")

    page.goto(hub.hub_url("logout"))
    sign_in(page, hub, user.name)  # the password: the code page comes next
    expect(page).to_have_url(re.compile(r"/hub/portal/login/code"))
    page.get_by_label("Code from your authenticator app:").fill("000000"
                                                                if code(secret) != "000000"
                                                                else "111111")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right, or was used already")
    page.screenshot(path=str(SCREENSHOTS / "two-factor-sign-in.png"), full_page=True)
    assert violations(page) == []  # the code page, with its error
    page.get_by_label("Code from your authenticator app:").fill(code(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/hub/portal$"))
    page.close()

    board, row = admin_row(browser, hub, user.name)
    expect(row.locator(".two-factor-state")).to_have_text("2FA")
    expect(row.get_by_role("button", name=f"Clear 2FA of {user.name}")
           ).to_be_visible()
    board.goto(hub.hub_url("portal/admin/account-policy"))
    policy = board.locator("#admin-account-policy")
    expect(policy.get_by_label(re.compile("Require it for everyone"))).not_to_be_checked()
    policy.screenshot(path=str(SCREENSHOTS / "admin-two-factor.png"))
    # Accounts from a CSV: the preview explains the bad rows and offers no Create button.
    board.goto(hub.hub_url("portal/admin/accounts"))
    batch = board.locator("#admin-batch")
    batch.get_by_label("CSV file").set_input_files(files=[{
        "name": "class.csv", "mimeType": "text/csv",
        "buffer": b"name,groups,environment\nstudent-1,,python\nadmin,,\n\xd0\xb0dmin,,\n"
                  b"a/b,,\nstudent-1,,\nstudent-2,no-such-group,\n"}])
    batch.get_by_role("button", name="Preview").click()
    expect(batch.locator(".batch-bad-row")).to_have_count(5)
    expect(batch.get_by_role("button", name=re.compile("^Create"))).to_have_count(0)
    batch.screenshot(path=str(SCREENSHOTS / "admin-batch-preview.png"))
    idle_for(hub, user.name, 120)
    board.goto(hub.hub_url("portal/admin/dormant"))
    dormant = board.locator("#admin-dormant")
    dormant.get_by_label("No activity for at least (days)").fill("90")
    dormant.get_by_role("button", name="Show").click()
    # The days are in the address once the answer is in (the first load may show the row too).
    expect(board).to_have_url(re.compile(r"/portal/admin/dormant\?days=90$"))
    expect(dormant.locator(f'tr[data-user="{user.name}"]')).to_be_visible()
    dormant.screenshot(path=str(SCREENSHOTS / "admin-dormant.png"))
    board.close()
