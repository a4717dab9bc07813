"""In Chromium: the admin console lists the environments, and a user chooses one on the card,
starts, and the card says which one runs (issue 25). Switching is tests/integration/
test_environments.py."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.limits import make_group
from tests.support.page_settled import SETTLED
from tests.ui.axe import violations
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in


def test_choose_an_environment_on_the_card_and_start(hub, browser, make_user):
    user = make_user("chooser")
    make_group(hub, "env-ui", user.name)  # only its members see these
    for name, image in (("ui-lab", "dshub-lab"), ("ui-noext", "dshub-lab-noext")):
        r = hub.api("PUT", f"../portal/api/environments/{name}", json={
            "image": image, "description": f"{image} for the UI test", "groups": ["env-ui"]})
        assert r.status_code == 200, r.text
    try:
        admin = browser.new_page()
        sign_in(admin, hub, "admin")
        admin.goto(hub.hub_url("portal/admin/environments"))
        table = admin.get_by_role("table", name="Environments")
        expect(table.get_by_role("row").filter(has_text="ui-noext")).to_contain_text(
            "dshub-lab-noext:latest")
        admin.get_by_role("button", name="Change ui-noext").click()
        expect(admin.get_by_label("Image")).to_have_value("dshub-lab-noext:latest")
        admin.wait_for_function(SETTLED)
        assert violations(admin) == []
        admin.get_by_role("region", name="Environments").screenshot(
            path=str(SCREENSHOTS / "admin-environments.png"))
        admin.close()

        page = browser.new_page()
        sign_in(page, hub, user.name)
        card = page.get_by_role("region", name=f"Server of {user.name}")
        status = card.get_by_role("status")
        expect(status).to_have_text("Stopped")
        choice = card.get_by_label("Environment")
        expect(choice).to_have_value("ui-lab")  # the first by name: no last one yet
        page.wait_for_function(SETTLED)
        assert violations(page) == []  # axe-core: the choice is labelled, in reach
        card.screenshot(path=str(SCREENSHOTS / "card-environments.png"))
        choice.select_option("ui-noext")
        card.get_by_role("button", name="Start").click()
        expect(status).to_have_text("Running", timeout=90_000)
        expect(card.locator("[data-environment]")).to_have_text("Environment: ui-noext")
        expect(card.get_by_role("combobox", name="Switch to")).to_have_value("ui-lab")
        assert violations(page) == []
        card.get_by_role("button", name="Stop").click()
        expect(status).to_have_text("Stopped", timeout=60_000)
        expect(card.get_by_label("Environment")).to_have_value("ui-noext")  # the last one
    finally:
        hub.api("DELETE", f"users/{user.name}/server")  # a failed check leaves no lab behind
        for name in ("ui-lab", "ui-noext"):
            hub.api("DELETE", f"../portal/api/environments/{name}")
