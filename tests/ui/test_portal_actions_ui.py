"""In Chromium: restart through the confirmation dialog, reset a volume through the modal."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.clients import ensure_running
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in


def test_restart_dialog_and_volume_reset_modal(hub, browser, make_user):
    user = make_user("clicker")
    ensure_running(user)
    page = browser.new_page()
    sign_in(page, hub, user.name)
    card = page.get_by_role("region", name=f"Server of {user.name}")
    expect(card.get_by_role("status")).to_have_text("Running")

    card.get_by_role("button", name="Restart…").click()
    dialog = page.get_by_role("dialog", name=re.compile("Restart your server"))
    expect(dialog).to_contain_text("the same container and all volumes")
    expect(dialog).to_contain_text("running kernels")
    page.screenshot(path=str(SCREENSHOTS / "restart-dialog.png"))
    dialog.get_by_role("button", name="Restart", exact=True).click()
    expect(card.get_by_role("status")).to_have_text("Restarting")
    expect(card.get_by_role("status")).to_have_text("Running", timeout=90_000)

    # Volumes cannot be reset while the server runs.
    card.get_by_role("button", name="Manage volumes…").click()
    modal = page.get_by_role("dialog", name=re.compile("Volumes of"))
    expect(modal.get_by_text("Stop the server to reset volumes.")).to_be_visible()
    expect(modal.get_by_role("checkbox", name="workspace")).to_be_disabled()
    modal.get_by_role("button", name="Close").click()

    card.get_by_role("button", name="Stop").click()
    expect(card.get_by_role("status")).to_have_text("Stopped", timeout=60_000)
    card.get_by_role("button", name="Manage volumes…").click()
    modal = page.get_by_role("dialog", name=re.compile("Volumes of"))
    modal.get_by_role("checkbox", name="workspace").check()
    # Without the acknowledgement the reset is refused with a readable message.
    modal.get_by_role("button", name="Reset selected").click()
    expect(modal.get_by_role("alert")).to_contain_text("Tick the box")
    modal.get_by_label(re.compile("I understand")).check()
    page.screenshot(path=str(SCREENSHOTS / "volumes-modal.png"))
    modal.get_by_role("button", name="Reset selected").click()
    expect(modal.get_by_role("status")).to_contain_text("Reset: workspace")
    expect(card.get_by_role("status")).to_have_text("Stopped")
