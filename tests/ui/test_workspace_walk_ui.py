"""In Chromium, the walk of issue 25 in one test: the admin's Environments section; a user
chooses an environment on the card and starts, switches to the other one, adds a second (named)
server, shares it with another user from its card, and that user opens it from "Shared with
me" (the hub's OAuth page once: the lab is not their own) and lands in JupyterLab through the
proxy; the owner revokes it, and stops the first server, whose card then offers the
environment it ran last. axe-core checks each page on the way; the screenshots are the README's.
Three lab starts: the start, the switch, the second server (it replaced three tests of one lab
start each: the environment's, the named server's and sharing's)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.limits import make_group
from tests.support.page_settled import SETTLED
from tests.ui.axe import violations
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in

ENVIRONMENTS = (("ui-lab", "dshub-lab"), ("ui-noext", "dshub-lab-noext"))
LAB_START = 90_000  # ms for a lab to come up on a loaded 2-core machine


def accessible(page: Page) -> None:
    page.wait_for_function(SETTLED)
    assert violations(page) == []


def test_environment_start_switch_second_server_shared_and_opened(hub, browser, make_user):
    owner, friend = make_user("walker"), make_user("walkfriend")
    make_group(hub, "walk-ui", owner.name)  # only its members see these environments
    r = hub.api("PUT", "../portal/api/limits/groups/walk-ui", json={"named_servers": 2})
    assert r.status_code == 200, r.text
    for name, image in ENVIRONMENTS:
        r = hub.api("PUT", f"../portal/api/environments/{name}", json={
            "image": image, "description": f"{image} for the UI test", "groups": ["walk-ui"]})
        assert r.status_code == 200, r.text
    try:
        check_the_admins_environments(browser, hub)
        page = browser.new_page()
        sign_in(page, hub, owner.name)
        choose_start_and_switch(page, owner.name)
        second = add_a_second_server(page, owner.name)
        share_it(page, second, friend.name)
        the_friend_opens_it(browser, hub, owner.name, friend.name)
        shared = second.get_by_role("list", name="Shared with")
        shared.get_by_role("button", name=f"Revoke the share with user {friend.name}").click()
        expect(second.get_by_text("Not shared with anyone.")).to_be_visible()
        # Stopped, the card offers the environment it ran last.
        card = page.get_by_role("region", name=f"Server of {owner.name}")
        card.get_by_role("button", name="Stop").click()
        expect(card.get_by_role("status")).to_have_text("Stopped", timeout=60_000)
        expect(card.get_by_label("Environment")).to_have_value("ui-lab")
        page.close()
    finally:  # a failed check leaves no lab behind
        hub.api("DELETE", f"users/{owner.name}/server")
        hub.api("DELETE", f"users/{owner.name}/servers/second", json={"remove": True})
        for name, _ in ENVIRONMENTS:
            hub.api("DELETE", f"../portal/api/environments/{name}")


def check_the_admins_environments(browser, hub) -> None:
    admin = browser.new_page()
    sign_in(admin, hub, "admin")
    admin.goto(hub.hub_url("portal/admin/environments"))
    table = admin.get_by_role("table", name="Environments")
    expect(table.get_by_role("row").filter(has_text="ui-noext")).to_contain_text(
        "dshub-lab-noext:latest")
    admin.get_by_role("button", name="Change ui-noext").click()
    expect(admin.get_by_label("Image")).to_have_value("dshub-lab-noext:latest")
    accessible(admin)
    admin.get_by_role("region", name="Environments").screenshot(
        path=str(SCREENSHOTS / "admin-environments.png"))
    admin.close()


def choose_start_and_switch(page: Page, owner: str) -> None:
    card = page.get_by_role("region", name=f"Server of {owner}")
    status = card.get_by_role("status")
    expect(status).to_have_text("Stopped")
    choice = card.get_by_label("Environment")
    expect(choice).to_have_value("ui-lab")  # the first by name: no last one yet
    accessible(page)  # the choice is labelled, in reach
    card.screenshot(path=str(SCREENSHOTS / "card-environments.png"))
    choice.select_option("ui-noext")
    card.get_by_role("button", name="Start").click()
    expect(status).to_have_text("Running", timeout=LAB_START)
    running = card.locator("[data-environment]")
    expect(running).to_have_text("Environment: ui-noext")
    switch_to = card.get_by_role("combobox", name="Switch to")
    expect(switch_to).to_have_value("ui-lab")
    accessible(page)
    # The switch: a re-creation into the other image, the same volumes, after a confirmation.
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Switch environment").click()
    expect(running).to_have_text("Environment: ui-lab", timeout=LAB_START)
    expect(status).to_have_text("Running", timeout=LAB_START)


def add_a_second_server(page: Page, owner: str):
    expect(page.get_by_role("link", name="My server", exact=True)).to_be_visible()
    page.get_by_label("New server").fill("Bad_Name")
    page.get_by_role("button", name="Add a server").click()
    # The browser's own check (the pattern) stops it first; the hub's rule is the same.
    expect(page.locator(".server-card")).to_have_count(1)
    page.get_by_label("New server").fill("second")
    page.locator("#add-server-environment").select_option("ui-noext")
    page.get_by_role("button", name="Add a server").click()
    notice = page.locator("#servers-notice")
    expect(notice).to_contain_text("Server second added; it is starting.")
    card = page.get_by_role("region", name=f"Server second of {owner}")
    expect(card.get_by_role("status")).to_have_text("Running", timeout=LAB_START)
    expect(card.locator("[data-environment]")).to_have_text("Environment: ui-noext")
    expect(notice).to_be_empty()  # the card says it runs; the notice went
    expect(page.get_by_role("region", name=f"Server of {owner}").get_by_role(
        "status")).to_have_text("Running")
    expect(page.get_by_text("1 of 2 named servers")).to_be_visible()
    page.reload()
    expect(page.get_by_role("link", name="My servers")).to_be_visible()
    card = page.get_by_role("region", name=f"Server second of {owner}")
    expect(card.get_by_role("status")).to_have_text("Running")
    accessible(page)
    # The page down to "Shared with me": both cards and the form adding a server.
    bottom = page.get_by_role("region", name="Shared with me").bounding_box()
    page.screenshot(path=str(SCREENSHOTS / "portal-named-servers.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": page.viewport_size["width"],
                          "height": bottom["y"] + bottom["height"] + 16})
    return card


def share_it(page: Page, card, friend: str) -> None:
    card.get_by_text("Share this server…").click()
    card.get_by_label("Name").fill(friend)
    card.get_by_role("button", name="Share", exact=True).click()
    expect(card.get_by_role("list", name="Shared with")).to_contain_text(friend)
    expect(card.get_by_role("status").filter(has_text="Shared with")).to_have_text(
        f"Shared with user {friend}.")
    accessible(page)
    card.screenshot(path=str(SCREENSHOTS / "card-sharing.png"))


def the_friend_opens_it(browser, hub, owner: str, friend: str) -> None:
    visitor = browser.new_page()
    sign_in(visitor, hub, friend)
    mine = visitor.get_by_role("region", name="Shared with me")
    expect(mine).to_contain_text(f"{owner}'s server second")
    accessible(visitor)
    mine.screenshot(path=str(SCREENSHOTS / "shared-with-me.png"))
    mine.get_by_role("link", name=f"Open {owner}'s server second").click()
    # The hub asks the visitor once whether this lab, not their own, may identify them.
    visitor.get_by_role("button", name="Authorize").click()
    expect(visitor).to_have_url(re.compile(rf"/user/{owner}/second/lab"), timeout=60_000)
    expect(visitor.locator("#jp-main-dock-panel")).to_be_visible(timeout=60_000)
    visitor.close()
