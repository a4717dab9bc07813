"""The admin's user table on the real hub: a bulk stop of running labs, the sudo check on bulk
grants, the start log. Search, filters, pages and bulk group changes: tests/inprocess/
test_user_table.py."""

from __future__ import annotations

import re

from tests.support.clients import Portal, ensure_running, wait_state

ROWS = re.compile(r'<tr data-user="([^"]+)" data-state="(\w+)"')


def rows(admin, query: str) -> list[tuple[str, str]]:
    r = admin.get(f"portal/admin/user-table?{query}")
    assert r.status_code == 200, r.text[:300]
    return ROWS.findall(r.text)


def test_bulk_stop_of_a_filtered_selection_stops_exactly_those(admin, make_user):
    chosen = [make_user("standinbulkstop"), make_user("standinbulkstop")]
    keeper = make_user("standinbulkkeep")
    for user in (*chosen, keeper):
        ensure_running(user)
    matching = rows(admin, "q=bulkstop&state=running")
    assert sorted(n for n, _ in matching) == sorted(u.name for u in chosen)
    r = admin.post("portal/admin/bulk", {
        "action": "stop", "scope": "matching", "matching": "2",
        "filter_q": "bulkstop", "filter_state": "running"})
    assert r.status_code == 200, r.text
    assert "2 of 2 done" in r.text
    for user in chosen:
        assert wait_state(admin, user.name, {"stopped"}) == "stopped"
    assert wait_state(admin, keeper.name, {"running"}) == "running"
    # The count the admin saw must still hold; otherwise nothing is done.
    r = admin.post("portal/admin/bulk", {
        "action": "stop", "scope": "matching", "matching": "5", "filter_q": "bulkkeep"})
    assert r.status_code == 409 and "1 users match the filters now, not 5" in r.text
    assert wait_state(admin, keeper.name, {"running"}) == "running"
    keeper.post(f"portal/users/{keeper.name}/stop")


def test_bulk_grant_of_docker_access_needs_the_password_again(hub, make_user):
    """A session without a recent password confirmation cannot grant host power in bulk."""
    target = make_user("bulksudo")
    fresh = Portal(hub, "admin")  # signed in, never confirmed its password
    r = fresh.post("portal/admin/bulk", {"action": "group-add", "group": "docker-sock",
                                         "user": [target.name]})
    assert r.status_code == 403, r.text
    assert target.name not in hub.api("GET", "groups/docker-sock").json()["users"]


def test_the_start_log_is_for_the_owner_and_admins_only(admin, make_user):
    owner, other = make_user("logged"), make_user("nosy")
    ensure_running(owner)
    mine = owner.get(f"portal/users/{owner.name}/log")
    assert mine.status_code == 200 and "<pre" in mine.text, mine.text[:300]
    assert "jupyter" in mine.text.lower()
    assert admin.get(f"portal/users/{owner.name}/log").status_code == 200
    assert other.get(f"portal/users/{owner.name}/log").status_code == 404
    owner.post(f"portal/users/{owner.name}/stop")
    assert wait_state(owner, owner.name, {"stopped"}) == "stopped"
    # A clean stop lets the hub drop the spawner (and the tail it kept): nothing to show.
    assert "No output yet" in owner.get(f"portal/users/{owner.name}/log").text
