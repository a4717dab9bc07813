"""In Chromium: the old approval URLs, opened by a signed-in admin's browser (a link, or images
on a page of the hub's own origin), change nothing; the portal's Approve button does."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.clients import Portal, signup, try_sign_in
from tests.ui.test_signup_to_lab import sign_in

LOAD_IMAGES = """urls => Promise.all(urls.map(url => new Promise(done => {
  const img = new Image(); img.onload = img.onerror = done; img.src = url;
  document.body.append(img);
})))"""


def test_get_links_and_images_cannot_approve_discard_or_lock_out(hub, admin, browser):
    stranger, other = "stranger-get", "stranger-img"
    for name in (stranger, other):
        assert signup(hub, name).status_code == 200
    page = browser.new_page()
    sign_in(page, hub, "admin")
    # A link the admin follows: used to approve the stranger at once.
    page.goto(hub.hub_url(f"authorize/{stranger}"))
    # Images on a page of the hub's origin: used to discard a sign-up and un-authorize the admin.
    page.goto(hub.hub_url("portal"))
    page.evaluate(LOAD_IMAGES, [hub.hub_url(f"discard/{other}"), hub.hub_url("authorize/admin")])

    assert try_sign_in(hub, stranger).status_code != 302, "a GET approved a stranger"
    assert try_sign_in(hub, "admin").status_code == 302, "a GET locked the admin out"
    waiting = admin.get("portal/admin/signups")
    assert waiting.status_code == 200
    assert f'data-signup="{stranger}"' in waiting.text and f'data-signup="{other}"' in waiting.text

    # The GET routes lead to the list; approving and rejecting are buttons (htmx POSTs).
    page.goto(hub.hub_url("authorize"))
    section = page.get_by_role("region", name="Sign-ups waiting for approval")
    section.get_by_role("row").filter(has_text=stranger).get_by_role(
        "button", name="Approve").click()
    expect(section.get_by_role("status")).to_have_text(
        f"{stranger} is approved and can sign in now.")
    page.once("dialog", lambda dialog: dialog.accept())
    section.get_by_role("row").filter(has_text=other).get_by_role("button", name="Reject").click()
    expect(section.get_by_role("status")).to_contain_text(f"The sign-up of {other} was rejected")
    Portal(hub, stranger)  # signs in (asserts the 302)
    assert try_sign_in(hub, other).status_code != 302
    page.close()
