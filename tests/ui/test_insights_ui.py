"""In Chromium: the admin opens Insights from the admin page, switches the period (links and
custom dates, kept in the URL), exports a table as CSV and follows a user to the user table;
a user's own usage on their page. Screenshots in the light and the dark theme."""

from __future__ import annotations

import csv
import re

from playwright.sync_api import expect

from tests.support.insights import seed_history
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in


def test_insights_period_export_and_own_usage(hub, browser, admin, make_user, tmp_path):
    users = [make_user("uiinsa"), make_user("uiinsb"), make_user("uiinsc")]
    names = [u.name for u in users]
    assert hub.api("POST", "groups/ui-analysts", json={"users": names[:2]}).status_code == 201
    seed_history(hub, names)

    page = browser.new_page()
    sign_in(page, hub, "admin")
    page.goto(hub.hub_url("portal/admin"))
    page.get_by_role("navigation", name="Admin pages").get_by_role(
        "link", name="Insights").click()
    expect(page).to_have_url(re.compile(r"/hub/portal/admin/insights$"))
    expect(page.locator(f'#insights-users tr[data-user="{names[2]}"]')).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "insights.png"), full_page=True)

    page.get_by_role("navigation", name="Period").get_by_role(
        "link", name="Last 24 hours").click()
    expect(page).to_have_url(re.compile(r"\?period=day$"))
    expect(page.locator("#insights-running th").first).to_have_text("Hour (UTC)")
    page.get_by_label("From", exact=True).fill("2026-01-01")
    page.get_by_label("To", exact=True).fill("2026-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period=custom&since=2026-01-01&until=2026-01-31"))
    expect(page.locator("#insights-period")).to_contain_text("2026-01-01 to 2026-01-31")
    page.get_by_role("link", name="Last 7 days").click()

    with page.expect_download() as download:
        page.locator('[data-export="users-csv"]').click()
    path = tmp_path / "users.csv"
    download.value.save_as(path)
    rows = {r["name"]: r for r in csv.DictReader(path.open())}
    assert set(names) <= set(rows)
    shown = page.locator(f'#insights-users tr[data-user="{names[0]}"] td').nth(2)
    assert float(shown.inner_text()) == round(float(rows[names[0]]["lab_hours"]), 1)

    page.locator(f'#insights-users tr[data-user="{names[1]}"] a').click()
    expect(page.locator(f'tr[data-user="{names[1]}"]')).to_be_visible()
    # Checked once the table has loaded: its first load used to push the address again,
    # without the #fragment (and Back then led to this same page).
    expect(page).to_have_url(re.compile(rf"/hub/portal/admin/users\?q={names[1]}$"))

    dark = page  # the same session, in the dark theme (the system's setting)
    dark.emulate_media(color_scheme="dark")
    dark.goto(hub.hub_url("portal/admin/insights?period=week"))
    expect(dark.locator("html")).to_have_attribute("data-bs-theme", "dark")
    # One bar per user with usage: ours, and any lab an earlier test of this worker's hub ran.
    bars = dark.locator('svg[data-chart="chart-users"] rect title')
    expect(bars.first).to_be_attached()
    labels = [t.split(":")[0] for t in bars.all_text_contents()]
    assert set(names) <= set(labels), labels
    dark.screenshot(path=str(SCREENSHOTS / "insights-dark.png"), full_page=True)

    mine = browser.new_page()
    sign_in(mine, hub, names[2])
    expect(mine.locator("#own-usage")).to_contain_text("This month")
    expect(mine.locator("#own-usage")).to_contain_text("workspace: 2.5 GiB")
    mine.locator("#own-usage").screenshot(path=str(SCREENSHOTS / "own-usage.png"))
    for p in (page, mine):
        p.close()
