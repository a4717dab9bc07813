"""In Chromium, one walk through the admin console and the portal's pages: every page by its
address, back and forward, a position kept in the address bar, an old #anchor, axe-core on
every page in both themes, screenshots of both, and a phone's width. What needs no browser (each
page's scopes, fragments, pushed positions, the dashboard's figures) is in
tests/inprocess/test_admin_pages.py."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.views.admin_pages import SECTIONS
from tests.support.limits import make_group
from tests.support.page_settled import SETTLED
from tests.ui.axe import violations
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in

# The page itself scrolls sideways (a table scrolling inside its own box does not count).
SCROLLS_SIDEWAYS = ("() => document.documentElement.scrollWidth"
                    " > document.documentElement.clientWidth")


COLOUR_RULES = ("color-contrast", "link-in-text-block")


def admin_url(hub, slug: str) -> str:
    return hub.hub_url(f"portal/admin/{slug}".rstrip("/"))


def settle(page: Page) -> None:
    page.wait_for_function(SETTLED)


def check(page: Page, found: dict[str, list[str]], what: str, theme: str = "light") -> None:
    """axe-core on the page: every rule in the light theme; in the dark one what it changes."""
    settle(page)
    if bad := violations(page, () if theme == "light" else COLOUR_RULES):
        found[what] = bad


def test_walk_every_page_in_both_themes_and_on_a_phone(hub, browser, make_user):
    walker = make_user("walker").name
    # Rows with their own buttons on every section, whatever other tests on this hub made: a
    # group's limits and quota (the limits page's "Use defaults" once hid a mislabelled button
    # until another test happened to leave a group's limits behind).
    make_group(hub, "walk-team", walker)
    r = hub.api("PUT", "../portal/api/limits/groups/walk-team", json={"memory": "1G"})
    assert r.status_code == 200, r.text
    r = hub.api("PUT", "../portal/api/quotas/groups/walk-team", json={"lab_hours": 10})
    assert r.status_code == 200, r.text
    found: dict[str, list[str]] = {}
    page = browser.new_page()
    for name in ("login", "signup"):  # the portal's own sign-in and sign-up pages
        page.goto(hub.hub_url(name))
        check(page, found, name)
    sign_in(page, hub, "admin")
    portal_pages = [hub.hub_url("portal"), hub.hub_url("portal/account")]

    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for url in portal_pages:
            page.goto(url)
            check(page, found, f"{url} ({theme})", theme)
        for s in SECTIONS:
            page.goto(admin_url(hub, s.slug))
            expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
            expect(page.get_by_role("heading", level=1)).to_have_text(s.title)
            expect(page.get_by_role("navigation", name="Admin pages").locator(
                '[aria-current="page"]')).to_have_text(s.title)
            check(page, found, f"{s.slug or 'dashboard'} ({theme})", theme)
            if s.slug in ("", "users"):
                suffix = "" if theme == "light" else "-dark"
                name = "admin-dashboard" if s.slug == "" else "admin-users-page"
                page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"))
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(
        f"{what}: {line}" for what, lines in found.items() for line in lines)

    # Back and forward through pages reached by their addresses.
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(SECTIONS[-2].title)
    page.go_forward()
    expect(page.get_by_role("heading", level=1)).to_have_text(SECTIONS[-1].title)
    # A filter's position is in the address: reload keeps it, back undoes it.
    page.goto(admin_url(hub, "audit"))
    page.get_by_label("User", exact=True).fill(walker)
    page.get_by_label("User", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(rf"/portal/admin/audit\?user={walker}$"))
    expect(page.locator("#audit-feed tbody tr").first).to_contain_text(walker)
    page.reload()
    expect(page.get_by_label("User", exact=True)).to_have_value(walker)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/portal/admin/audit$"))
    expect(page.get_by_label("User", exact=True)).to_have_value("")
    # An audit event leads to the user it concerns; an old #anchor to its page.
    page.goto(admin_url(hub, "audit") + f"?user={walker}")
    page.locator('#audit-feed a[data-links="user"]').first.click()
    expect(page).to_have_url(re.compile(rf"/portal/admin/users\?q={walker}$"))
    expect(page.locator(f'tr[data-user="{walker}"]')).to_be_visible()
    page.goto(admin_url(hub, "") + "#admin-audit")
    expect(page).to_have_url(re.compile(r"/portal/admin/audit$"))

    # A phone: the card, the dashboard and the user table fit its width (the table scrolls in
    # its own box), and every action stays within reach. (The same session, held narrower.)
    phone = page
    phone.emulate_media(color_scheme="light")
    phone.set_viewport_size({"width": 390, "height": 844})
    for url, shot in ((hub.hub_url("portal"), "phone-card"),
                      (admin_url(hub, ""), "phone-admin-dashboard"),
                      (admin_url(hub, "users") + f"?q={walker}", "phone-admin-users")):
        phone.goto(url)
        settle(phone)
        assert not phone.evaluate(SCROLLS_SIDEWAYS), f"{url} scrolls sideways at 390 px"
        phone.screenshot(path=str(SCREENSHOTS / f"{shot}.png"))
    phone.get_by_role("button", name=walker, exact=True).click()
    start = phone.get_by_role("region", name=f"Server of {walker}").get_by_role(
        "button", name="Start")
    start.scroll_into_view_if_needed()
    box = start.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    phone.close()
