"""The admin's user table in process: search, filters, sort, pages, the address bar, bad
input, and a bulk group change. Bulk stops of running labs, the start log and the sudo check on
bulk grants stay on the real hub (tests/integration/test_user_table.py)."""

from __future__ import annotations

import re

import pytest

ROWS = re.compile(r'<tr data-user="([^"]+)" data-state="(\w+)"')
TOTAL = re.compile(r'<span id="table-total">(\d+)</span>')


def rows(admin, query: str) -> list[tuple[str, str]]:
    r = admin.get(f"portal/admin/user-table?{query}")
    assert r.status_code == 200, r.text[:300]
    return ROWS.findall(r.text)


@pytest.fixture(scope="module")
def tablecrowd(hub) -> list[str]:
    """A few hundred users made through the REST API, some of them in a group. The prefix is
    this file's alone: the hub is the worker's, and a user of another file whose name contains
    it (test_accounts made "crowd8") came first in the descending sort."""
    names = [f"tablecrowd{i:03d}" for i in range(300)]
    for start in range(0, len(names), 100):
        r = hub.api("POST", "users", json={"usernames": names[start:start + 100]})
        assert r.status_code == 201, r.text[:300]
    r = hub.api("POST", "groups/tablecrowd-evens", json={"users": names[::2]})
    assert r.status_code == 201, r.text[:300]
    return names


def test_search_sort_and_pages(admin, tablecrowd):
    first = rows(admin, "q=tablecrowd&size=25")
    assert [n for n, _ in first] == tablecrowd[:25]
    second = rows(admin, "q=tablecrowd&size=25&page=2")
    assert [n for n, _ in second] == tablecrowd[25:50]
    backwards = rows(admin, "q=tablecrowd&size=25&sort=name&dir=desc")
    assert [n for n, _ in backwards] == tablecrowd[::-1][:25]
    assert [n for n, _ in rows(admin, "q=tablecrowd12")] == [f"tablecrowd12{i}" for i in range(10)]
    html = admin.get("portal/admin/user-table?q=tablecrowd&size=100").text
    assert "300 users match" in html and "page 1 of 3" in html


def total(admin, query: str) -> int:
    r = admin.get(f"portal/admin/user-table?{query}")
    assert r.status_code == 200, r.text[:300]
    return int(TOTAL.search(r.text).group(1))


def test_search_finds_any_part_of_a_name_in_any_case(admin, tablecrowd):
    middle = [f"tablecrowd12{i}" for i in range(10)]
    assert [n for n, _ in rows(admin, "q=crowd12")] == middle
    assert [n for n, _ in rows(admin, "q=CrOwD12")] == middle
    assert [n for n, _ in rows(admin, "q=ecrowd299")] == ["tablecrowd299"]
    # The text is a plain string: _ and % are no wildcards.
    assert rows(admin, "q=tablecrowd_") == [] and rows(admin, "q=table%25crowd") == []


def test_many_matches_count_and_page_as_few_do(admin, tablecrowd, monkeypatch):
    """Past FEW matches the count and the page are queries of their own: the same answers."""
    from portal.admin import user_table

    views = ["q=ecrowd&size=25&page=2", "q=tablecrowd&group=tablecrowd-evens&size=25&page=3",
             "q=tablecrowd&sort=name&dir=desc&size=25", "q=ecrowd&sort=state&size=25&page=12",
             "q=ecrowd1&idle=30d&size=25&page=4", "q=ecrowd12"]
    few = {view: (rows(admin, view), total(admin, view)) for view in views}
    monkeypatch.setattr(user_table, "FEW", 10)
    assert {view: (rows(admin, view), total(admin, view)) for view in views} == few
    assert few["q=ecrowd&size=25&page=2"] == ([(n, "stopped") for n in tablecrowd[25:50]], 300)
    assert few["q=tablecrowd&group=tablecrowd-evens&size=25&page=3"] == (
        [(n, "stopped") for n in tablecrowd[::2][50:75]], 150)
    assert few["q=ecrowd1&idle=30d&size=25&page=4"] == (
        [(n, "stopped") for n in tablecrowd[175:200]], 100)


def test_the_count_follows_accounts_made_and_deleted(admin, hub):
    everyone = total(admin, "")
    assert total(admin, "q=tablelate") == 0 and rows(admin, "q=tablelate&page=2") == []
    r = hub.api("POST", "users", json={"usernames": ["tablelate1", "tablelate2"]})
    assert r.status_code == 201, r.text[:300]
    assert total(admin, "q=tablelate") == 2 and total(admin, "") == everyone + 2
    assert rows(admin, "q=tablelate&size=25&page=2") == []
    assert hub.api("DELETE", "users/tablelate1").status_code == 204
    assert total(admin, "q=ablelate") == 1 and total(admin, "") == everyone + 1
    assert [n for n, _ in rows(admin, "q=late2")] == ["tablelate2"]
    assert hub.api("DELETE", "users/tablelate2").status_code == 204


def test_filters_by_group_state_and_idle(admin, tablecrowd):
    evens = rows(admin, "q=tablecrowd&group=tablecrowd-evens&size=100&page=2")
    assert [n for n, _ in evens] == tablecrowd[::2][100:150]
    assert rows(admin, "q=tablecrowd&state=running") == []
    # Made through the API and never used: idle for longer than any choice.
    assert len(rows(admin, "q=tablecrowd&idle=30d&size=100")) == 100


def test_the_position_is_in_the_address_bar(admin, tablecrowd):
    r = admin.get("portal/admin/user-table?q=tablecrowd&size=25&page=3&sort=name")
    assert r.headers["HX-Push-Url"].endswith(
        "/portal/admin/users?q=tablecrowd&sort=name&size=25&page=3")
    page = admin.get("portal/admin/users?q=tablecrowd&size=25&page=3&sort=name", htmx=False)
    assert "user-table?q=tablecrowd&amp;size=25&amp;page=3&amp;sort=name" in page.text


def test_bad_table_input_is_a_readable_400(admin):
    for query, words in (("state=odd", "Unknown state"), ("sort=shoe", "Unknown sort"),
                         ("page=0", "page is a number"), ("size=7", "size one of")):
        r = admin.get(f"portal/admin/user-table?{query}")
        assert r.status_code == 400 and words in r.text, (query, r.text[:200])


def test_bulk_group_change_reports_each_user(admin, make_user, hub):
    a, b = make_user("bulkgrp"), make_user("bulkgrp")
    r = admin.post("portal/admin/bulk", {"action": "group-add", "group": "docker-sock",
                                          "user": [a.name, b.name, "nobody-here"]})
    assert r.status_code == 200, r.text
    assert 'data-user="nobody-here" data-ok="no"' in r.text
    members = hub.api("GET", "groups/docker-sock").json()["users"]
    assert {a.name, b.name} <= set(members)
    admin.post("portal/admin/bulk", {"action": "group-remove", "group": "docker-sock",
                                     "user": [a.name, b.name]})
    members = hub.api("GET", "groups/docker-sock").json()["users"]
    assert not {a.name, b.name} & set(members)
