"""In Chromium: an admin composes a warning in the portal; two users' JupyterLab pages show it.

Also the live counter (graphemes), the type preview, a refused over-long message, markup shown
as text, and the history after a hub restart, read through the admin page.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.broadcast.message import grapheme_count
from tests.support.clients import ensure_running, ensure_stopped
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in


def open_lab(browser, hub, name: str) -> Page:
    page = browser.new_page()
    sign_in(page, hub, name)
    page.goto(f"{hub.url}user/{name}/lab")
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=60_000)
    return page


def test_admin_broadcasts_a_warning_into_two_running_labs(hub, browser, make_user):
    users = [make_user("viewer"), make_user("viewer")]
    for user in users:
        ensure_running(user)
    labs = [open_lab(browser, hub, u.name) for u in users]

    admin = browser.new_page()
    sign_in(admin, hub, "admin")
    admin.goto(hub.hub_url("portal/admin/broadcast"))
    section = admin.get_by_role("region", name="Broadcast a notification")
    box = section.get_by_label("Message")
    counter = section.locator("#broadcast-count")

    # Counted as a person counts: one family emoji is one character; 141 are too many.
    box.fill("👩‍👩‍👧‍👦" * 141)
    expect(counter).to_have_text("141 / 140 characters: 1 too many")
    section.get_by_role("button", name="Send notification").click()
    expect(section.get_by_role("alert")).to_contain_text("at most 140 are allowed")

    text = "Servers restart at 18:00 <b>save your work</b> 👩‍👩‍👧‍👦"
    box.fill(text)
    expect(counter).to_have_text(f"{grapheme_count(text)} / 140 characters")
    section.get_by_role("radio", name="Warning").check()
    preview = section.locator("[data-broadcast-preview]")
    expect(preview).to_have_class(re.compile(r"\btoast-warning\b"))
    expect(preview).to_have_text(text)  # markup stays text
    section.get_by_role("radio", name="Never (stays until dismissed)").check()
    section.get_by_role("radio", name="Chosen users").check()
    section.get_by_label("Users", exact=True).select_option([u.name for u in users])
    section.locator("form").screenshot(path=str(SCREENSHOTS / "broadcast-composer.png"))
    section.get_by_role("button", name="Send notification").click()

    result = section.locator(".broadcast-result")
    expect(result).to_contain_text("Warning notification sent.")
    expect(result).to_contain_text("Targeted 2, delivered 2, failed 0")
    for user in users:
        expect(result.get_by_role("row").filter(has_text=user.name)).to_contain_text("delivered")
    expect(box).to_have_value("")  # cleared so it is not sent twice by accident

    # Each user's JupyterLab shows the toast, markup as typed, styled as a warning.
    for lab in labs:
        toast = lab.locator(".Toastify__toast").filter(has_text=text)
        expect(toast).to_be_visible(timeout=45_000)
        expect(toast).to_have_class(re.compile("Toastify__toast--warning"))
        expect(lab.locator(".Toastify__toast b")).to_have_count(0)

    history = section.get_by_role("table", name="Sent notifications")
    row = history.get_by_role("row").filter(has_text=text)
    expect(row).to_be_visible()
    expect(row).to_contain_text("2 of 2 delivered")

    # The history comes from the portal's store: a restarted hub lists it again.
    hub.restart()
    admin.goto(hub.hub_url("portal/admin/broadcast"))
    row = admin.get_by_role("table", name="Sent notifications").get_by_role("row").filter(
        has_text=text)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Warning")
    expect(row).to_contain_text("admin")
    expect(row).to_contain_text(f"Users: {', '.join(sorted(u.name for u in users))}")
    for user in users:  # a lab left running is sampled and polled for the rest of the pass
        ensure_stopped(user)
