"""In Chromium: sign up, get approved by the admin, sign in, start from the portal, open the lab."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.clients import PASSWORD
from tests.ui.conftest import SCREENSHOTS


def sign_in(page: Page, hub, name: str, password: str = PASSWORD) -> None:
    page.goto(hub.hub_url("login"))
    page.get_by_label("Username:").fill(name)
    page.get_by_label("Password:").fill(password)
    with page.expect_navigation():
        page.locator("#login_submit").click()


def admin_row(browser, hub, name: str):
    """A new page of the admin, signed in, on the user table filtered to `name`; (page, row)."""
    board = browser.new_page()
    sign_in(board, hub, "admin")
    board.goto(hub.hub_url(f"portal/admin/users?q={name}"))
    return board, board.locator(f'tr[data-user="{name}"]')


def test_signup_approval_signin_start_and_reach_jupyterlab(hub, browser):
    newcomer = browser.new_page()
    newcomer.goto(hub.hub_url("signup"))
    newcomer.get_by_label("Username:").fill("ann-marie")
    newcomer.locator("#password_input").fill(PASSWORD)
    newcomer.locator("#password_confirmation_input").fill(PASSWORD)
    with newcomer.expect_navigation():
        newcomer.locator("#signup_submit").click()
    expect(newcomer.get_by_text("information has been sent to the admin")).to_be_visible()

    # Not approved yet: signing in fails.
    sign_in(newcomer, hub, "ann-marie")
    expect(newcomer).to_have_url(re.compile(r"/hub/login"))

    admin = browser.new_page()
    sign_in(admin, hub, "admin")
    admin.goto(hub.hub_url("portal/admin/signups"))
    signups = admin.get_by_role("region", name="Sign-ups waiting for approval")
    signups.get_by_role("row").filter(has_text="ann-marie").get_by_role(
        "button", name="Approve").click()
    expect(signups.get_by_role("status")).to_have_text("ann-marie is approved and can sign in now.")

    sign_in(newcomer, hub, "ann-marie")
    expect(newcomer).to_have_url(re.compile(r"/hub/portal$"))
    card = newcomer.get_by_role("region", name="Server of ann-marie")
    expect(card.get_by_role("status")).to_have_text("Stopped")
    newcomer.get_by_role("link", name="Portal").first.wait_for()
    card.get_by_role("button", name="Start").click()
    expect(card.get_by_role("status")).to_have_text("Running", timeout=90_000)
    newcomer.screenshot(path=str(SCREENSHOTS / "portal-card.png"))

    card.get_by_role("link", name="Open JupyterLab").click()
    expect(newcomer).to_have_url(re.compile(r"/user/ann-marie/lab"), timeout=60_000)
    expect(newcomer.locator("#jp-main-dock-panel")).to_be_visible(timeout=60_000)
