"""In Chromium, by keyboard alone: start, restart through the confirmation dialog, stop, reset a
volume through the modal, and an admin's broadcast to the running lab; dialogs take focus and
give it back, and a live region says what changed on the card."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.ui.conftest import SCREENSHOTS
from tests.ui.keyboard import press, tab_to
from tests.ui.test_signup_to_lab import sign_in

IN_DIALOG = "() => !!(document.activeElement && document.activeElement.closest('dialog[open]'))"


def test_keyboard_only_start_restart_broadcast_stop_and_volume_reset(hub, browser, make_user):
    user = make_user("keyboard")
    page = browser.new_page()
    sign_in(page, hub, user.name)
    card = page.get_by_role("region", name=f"Server of {user.name}")
    status = card.get_by_role("status")
    announcer = page.locator("#portal-announcer")
    expect(status).to_have_text("Stopped")

    press(page, card.get_by_role("button", name="Start"))
    expect(status).to_have_text("Running", timeout=90_000)
    expect(announcer).to_have_text(f"Server of {user.name}: Running")

    press(page, card.get_by_role("button", name="Restart…"))
    dialog = page.get_by_role("dialog", name=re.compile("Restart your server"))
    expect(dialog).to_contain_text("the same container and all volumes")
    expect(dialog).to_contain_text("running kernels")
    page.wait_for_function(IN_DIALOG)  # the dialog took focus
    page.screenshot(path=str(SCREENSHOTS / "restart-dialog.png"))
    press(page, dialog.get_by_role("button", name="Restart", exact=True))
    expect(status).to_have_text("Restarting")
    expect(status).to_have_text("Running", timeout=90_000)

    # Volumes cannot be reset while the server runs; Escape closes, focus returns.
    opener = card.get_by_role("button", name="Manage volumes…")
    press(page, opener)
    modal = page.get_by_role("dialog", name=re.compile("Volumes of"))
    expect(modal.get_by_text("Stop the server to reset volumes.")).to_be_visible()
    expect(modal.get_by_role("checkbox", name="workspace")).to_be_disabled()
    page.wait_for_function(IN_DIALOG)
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    expect(opener).to_be_focused()

    # The admin sends a notification to this running lab.
    admin = browser.new_page()
    sign_in(admin, hub, "admin")
    admin.goto(hub.hub_url("portal/admin/broadcast"))
    section = admin.get_by_role("region", name="Broadcast a notification")
    tab_to(admin, section.get_by_label("Message"))
    admin.keyboard.type("Typed without a mouse")
    press(admin, section.get_by_role("radio", name=re.compile("All active servers")), "ArrowRight")
    expect(section.get_by_role("radio", name="Chosen users")).to_be_checked()
    tab_to(admin, section.get_by_label("Users", exact=True))
    admin.keyboard.type(user.name)
    press(admin, section.get_by_role("button", name="Send notification"))
    expect(section.locator(".broadcast-result")).to_contain_text(
        "Targeted 1, delivered 1, failed 0")
    admin.close()

    press(page, card.get_by_role("button", name="Stop"))
    expect(status).to_have_text("Stopped", timeout=60_000)
    expect(announcer).to_have_text(f"Server of {user.name}: Stopped")
    press(page, card.get_by_role("button", name="Manage volumes…"))
    modal = page.get_by_role("dialog", name=re.compile("Volumes of"))
    press(page, modal.get_by_role("checkbox", name="workspace"), "Space")
    expect(modal.get_by_role("checkbox", name="workspace")).to_be_checked()
    # Without the acknowledgement the reset is refused with a readable message.
    press(page, modal.get_by_role("button", name="Reset selected"))
    expect(modal.get_by_role("alert")).to_contain_text("Tick the box")
    press(page, modal.get_by_label(re.compile("I understand")), "Space")
    page.screenshot(path=str(SCREENSHOTS / "volumes-modal.png"))
    press(page, modal.get_by_role("button", name="Reset selected"))
    expect(modal.get_by_role("status")).to_contain_text("Reset: workspace")
    expect(status).to_have_text("Stopped")
