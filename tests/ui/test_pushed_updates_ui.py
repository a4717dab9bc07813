"""In Chromium: pushed updates reach open pages within a second, without polling or reloads."""

from __future__ import annotations

import contextlib
import threading
import time

import requests
from playwright.sync_api import expect

from tests.support.clients import PASSWORD, ensure_running, ensure_stopped
from tests.ui.conftest import SCREENSHOTS
from tests.ui.test_signup_to_lab import sign_in

# ms: well under the fallback polls (10 s, 60 s), so only a push can meet it; the 1 s goal itself
# is measured by benchmarks/, not asserted on a loaded CI machine.
PUSHED = 5_000
STREAM_OPEN = "!window.portalStreamDown()"  # portal.js: the page's event stream is connected


def test_a_restart_in_one_tab_shows_in_the_other(hub, browser, make_user):
    user = make_user("standintwotabs")
    ensure_running(user)
    first, second = browser.new_context(), browser.new_context()
    tabs = [context.new_page() for context in (first, second)]
    for tab in tabs:
        sign_in(tab, hub, user.name)
        expect(tab.get_by_role("region", name=f"Server of {user.name}")
               .get_by_role("status")).to_have_text("Running")
        tab.wait_for_function(STREAM_OPEN)
    requests_seen: list[str] = []
    tabs[1].on("request", lambda r: requests_seen.append(r.url))
    watched = tabs[1].get_by_role("region", name=f"Server of {user.name}").get_by_role("status")

    tabs[0].get_by_role("button", name="Restart…").click()
    started = time.monotonic()
    tabs[0].get_by_role("dialog").get_by_role("button", name="Restart", exact=True).click()
    expect(watched).to_have_text("Restarting", timeout=PUSHED)
    expect(watched).to_have_text("Running", timeout=90_000)
    # The second tab asked for its card when told to, plus its own check every 3 s while the
    # restart was under way (no steady per-card polling, no reload).
    cards = [u for u in requests_seen if u.endswith("/card")]
    assert 1 <= len(cards) <= 6 + (time.monotonic() - started) / 3, cards
    assert not any(u.rstrip("/").endswith("/hub/portal") for u in requests_seen)
    for context in (first, second):
        context.close()
    ensure_stopped(user)


def admin_table_showing(hub, browser, user):
    """An admin's page whose user table shows only `user`, stopped: (context, page, its row)."""
    ensure_stopped(user)
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, hub, "admin")
    page.goto(hub.hub_url(f"portal/admin?q={user.name}"))
    row = page.locator(f'tr[data-user="{user.name}"]')
    expect(row).to_have_attribute("data-state", "stopped")
    return context, page, row


def test_the_admin_table_shows_a_start_made_through_the_rest_api(hub, browser, make_user):
    user = make_user("reststart")
    context, page, row = admin_table_showing(hub, browser, user)
    page.wait_for_function(STREAM_OPEN)
    r = hub.api("POST", f"users/{user.name}/server")
    assert r.status_code in (201, 202), r.text
    expect(row).not_to_have_attribute("data-state", "stopped", timeout=PUSHED)
    expect(row).to_have_attribute("data-state", "running", timeout=90_000)
    # Its CPU and memory come with the background sample (every 5 s here), shown on reload.
    memory = page.locator(f'tr[data-user="{user.name}"] td.usage-memory')
    deadline = time.monotonic() + 40
    while not memory.inner_text().strip():
        assert time.monotonic() < deadline, "no usage in the user table"
        page.wait_for_timeout(2_000)
        page.reload()
    expect(memory).to_contain_text("iB")
    page.goto(hub.hub_url("portal/admin?size=25&sort=state"))
    page.locator("#user-table").screenshot(path=str(SCREENSHOTS / "admin-users.png"))
    hub.api("DELETE", f"users/{user.name}/server")
    context.close()


def test_an_admin_table_reloads_for_the_rows_it_shows_only(hub, browser, make_user):
    """A server change elsewhere reaches the page (its event names the user) but does not
    reload a table that neither shows that user nor orders or filters by state."""
    shown, elsewhere = make_user("standinshown"), make_user("standinelsewhere")
    ensure_stopped(elsewhere)
    context, page, row = admin_table_showing(hub, browser, shown)
    expect(page.locator("#user-table")).to_have_attribute("data-live", "rows")
    page.wait_for_function(STREAM_OPEN)
    page.evaluate("""window.toldOf = [];
        document.addEventListener('sse:users-changed', e => window.toldOf.push(e.detail.data));""")
    reloads: list[str] = []
    page.on("request", lambda r: reloads.append(r.url) if "user-table" in r.url else None)

    assert hub.api("POST", f"users/{elsewhere.name}/server").status_code in (201, 202)
    page.wait_for_function(f"window.toldOf.join(' ').split(' ').includes({elsewhere.name!r})",
                           timeout=PUSHED)
    page.wait_for_timeout(1_500)  # the throttle's second, and a request's time
    assert reloads == [], reloads

    assert hub.api("POST", f"users/{shown.name}/server").status_code in (201, 202)
    expect(row).not_to_have_attribute("data-state", "stopped", timeout=PUSHED)
    assert reloads, "the table showing the changed user did not reload"
    # Sorted by state, a change anywhere may move rows: that view reloads on any change.
    page.goto(hub.hub_url(f"portal/admin?q={shown.name}&sort=state"))
    expect(page.locator("#user-table")).to_have_attribute("data-live", "all")
    context.close()
    hub.api("DELETE", f"users/{shown.name}/server")
    hub.api("DELETE", f"users/{elsewhere.name}/server")


def test_a_users_stream_never_carries_another_users_state(hub, make_user):
    watcher, other = make_user("streamer"), make_user("standinstreamed")
    admin_session = requests.Session()
    admin_session.get(hub.hub_url("login"), timeout=10)
    admin_session.post(hub.hub_url("login"), timeout=30, allow_redirects=False, data={
        "username": "admin", "password": PASSWORD,
        "_xsrf": admin_session.cookies.get("_xsrf", "")})
    heard: dict[str, list[bytes]] = {"watcher": [], "admin": []}
    streams = {
        "watcher": watcher.s.get(hub.hub_url("portal/events"), stream=True, timeout=60),
        "admin": admin_session.get(hub.hub_url("portal/events"), stream=True, timeout=60),
    }
    assert all(s.status_code == 200 for s in streams.values())

    def listen(who: str) -> None:
        with contextlib.suppress(Exception):  # ends when the test closes the stream
            for chunk in streams[who].iter_content(chunk_size=None):
                heard[who].append(chunk)

    readers = [threading.Thread(target=listen, args=(who,), daemon=True) for who in streams]
    for reader in readers:
        reader.start()
    time.sleep(0.6)  # both streams are subscribed before the change
    ensure_running(other)
    ensure_stopped(other)
    time.sleep(1.5)
    for stream in streams.values():
        stream.close()
    admin_text = b"".join(heard["admin"]).decode()
    watcher_text = b"".join(heard["watcher"]).decode()
    assert f"event: card-{other.name}" in admin_text and "users-changed" in admin_text
    assert watcher_text.startswith(": connected")
    assert other.name not in watcher_text and "users-changed" not in watcher_text
