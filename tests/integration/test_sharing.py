"""Sharing on the real hub (both JupyterHub lines: scripts/test.sh runs this file on 5.5 too):
a friend opens the owner's shared (named) lab through the proxy, signed in to it by the lab's
own OAuth with the hub; a stranger cannot; once revoked, the friend is refused too. And the
attack: a server with host power is not shared by a session that has not confirmed its
password, from the card or the hub's REST API."""

from __future__ import annotations

import html
import re

import requests

from tests.support.clients import PASSWORD, Portal, named_state
from tests.support.limits import make_group
from tests.support.sharing import share, share_rows, shared_with_me


def open_lab(visitor: Portal, link: str) -> requests.Response:
    """Follow a lab link as a browser would, approving the hub's OAuth page if it asks (a shared
    server asks its visitor once: it is not their own)."""
    origin = visitor.hub.url.split("/", 3)
    url = f"{origin[0]}//{origin[2]}{link}lab"
    r = visitor.s.get(url, timeout=60)
    if "Authorize access" in r.text:
        form = dict(_xsrf=re.search(r'name="_xsrf" value="([^"]*)"', r.text).group(1))
        scopes = [html.unescape(s) for s in re.findall(r'name="scopes" value="([^"]*)"', r.text)]
        r = visitor.s.post(r.url, data={**form, "scopes": scopes}, timeout=60)
    return r


def in_lab(r: requests.Response) -> bool:
    return r.status_code == 200 and "JupyterLab" in r.text


def api(portal: Portal, method: str, path: str, body: dict | None = None) -> requests.Response:
    """The portal's JSON API on `portal`'s own servers, with its session (and XSRF token)."""
    return portal.s.request(method, portal.url(f"portal/api/users/{portal.name}/{path}"),
                            json=body, headers={"X-XSRFToken": portal.xsrf}, timeout=60)


def test_a_friend_opens_a_shared_named_lab_a_stranger_cannot_and_a_revoked_share_ends(
        hub, make_user):
    """The owner's second (named) server, started through the portal's JSON API and shared
    from its card: its own OAuth client takes the friend's share (the default server's share is
    the same scope, `access:servers!server=<owner>/`; in process: tests/inprocess)."""
    owner, friend, stranger = make_user("sho"), make_user("shf"), make_user("shs")
    make_group(hub, "sh-named", owner.name)
    r = hub.api("PUT", "../portal/api/limits/groups/sh-named", json={"named_servers": 1})
    assert r.status_code == 200, r.text
    r = api(owner, "POST", "servers/work/start", {})
    assert r.status_code == 202 and r.json()["server"] == "work", r.text
    try:
        assert named_state(owner, "work", {"running", "failed"}) == "running"
        base = f"portal/users/{owner.name}/servers/work"
        r = owner.post(f"{base}/shares", {"kind": "user", "name": friend.name})
        assert r.status_code == 200, r.text
        link = shared_with_me(friend)[owner.name]
        assert link.endswith(f"/user/{owner.name}/work/"), link
        assert in_lab(open_lab(friend, link))
        r = open_lab(stranger, link)
        assert not in_lab(r) and r.status_code == 403, (r.status_code, r.url)
        r = owner.post(f"{base}/shares/revoke", {"kind": "user", "name": friend.name})
        assert r.status_code == 200 and shared_with_me(friend) == {}
        # A new visit (a fresh session: the lab trusts a sign-in it already checked for a few
        # minutes) is refused.
        r = open_lab(Portal(hub, friend.name, PASSWORD), link)
        assert not in_lab(r) and r.status_code == 403, (r.status_code, r.url)
    finally:
        api(owner, "POST", "servers/work/stop")
        assert named_state(owner, "work", {"stopped"}) == "stopped"
    assert api(owner, "DELETE", "servers/work", {"confirm": True}).status_code == 204


def test_a_server_with_host_power_is_not_shared_without_sudo_mode(hub, make_user):
    owner, friend = make_user("shp"), make_user("shpf")
    assert hub.api("POST", "groups/docker-sock/users",
                   json={"users": [owner.name]}).status_code == 200
    try:
        owner.get("portal", htmx=False)  # its default server exists (a share names a server)
        r = share(owner, owner.name, friend.name)  # the card's form, as htmx sends it
        assert r.status_code == 403 and "data-sudo" in r.text, r.text
        r = owner.s.post(hub.hub_url(f"portal/users/{owner.name}/shares"), timeout=30,
                         data={"kind": "user", "name": friend.name, "_xsrf": owner.xsrf})
        assert r.status_code == 403 and "confirm your password" in r.text
        r = owner.s.post(hub.hub_url(f"api/shares/{owner.name}/"), json={"user": friend.name},
                         headers={"X-XSRFToken": owner.xsrf}, timeout=30)
        assert r.status_code == 403 and "portal/api/sudo" in r.json()["message"]
        assert share_rows(hub, owner.name) == set()
        # Confirmed, the owner shares it.
        assert owner.confirm_sudo().status_code == 200
        assert share(owner, owner.name, friend.name).status_code == 200
        assert share_rows(hub, owner.name) == {("user", friend.name)}
    finally:
        hub.api("DELETE", "groups/docker-sock/users", json={"users": [owner.name]})
        hub.sql("hub", "DELETE FROM shares WHERE owner_id = (SELECT id FROM users WHERE "
                "name = :n)", n=owner.name)
