"""Sharing as tests drive it: the card's share and revoke forms, the "Shared with me" list, and
the hub's own share rows (both suites, real hub and in process)."""

from __future__ import annotations

import re

import requests

from tests.support.clients import Portal


def share(portal: Portal, owner: str, name: str, kind: str = "user",
          **extra: str) -> requests.Response:
    """The card's Share form, as htmx posts it (extra: the password dialog's field)."""
    return portal.post(f"portal/users/{owner}/shares", {"kind": kind, "name": name, **extra})


def revoke(portal: Portal, owner: str, name: str, kind: str = "user") -> requests.Response:
    return portal.post(f"portal/users/{owner}/shares/revoke", {"kind": kind, "name": name})


def listed(panel_html: str) -> set[tuple[str, str]]:
    """(kind, name) of each share the panel lists."""
    return set(re.findall(r'data-share-kind="(\w+)" data-share-name="([^"]*)"', panel_html))


def shared_with_me(portal: Portal) -> dict[str, str]:
    """Owner -> the Open link (empty while not running) of each server shared with `portal`."""
    r = portal.get(f"portal/users/{portal.name}/shared")
    assert r.status_code == 200, r.text
    found = {}
    for owner, body in re.findall(r'data-shared-owner="([^"]*)"[^>]*>(.*?)</li>', r.text, re.S):
        link = re.search(r'href="([^"]*)"', body)
        found[owner] = link.group(1) if link else ""
    return found


def share_rows(hub, owner: str) -> set[tuple[str, str]]:
    """(kind, name) of every share of `owner`'s servers, as the hub's database holds them."""
    rows = hub.sql("hub", "SELECT u.name, g.name FROM shares s JOIN users o ON o.id = s.owner_id "
                   "LEFT JOIN users u ON u.id = s.user_id LEFT JOIN groups g ON "
                   "g.id = s.group_id WHERE o.name = :n", n=owner)
    return {("user", user) if user else ("group", group) for user, group in rows}
