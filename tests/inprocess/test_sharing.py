"""Sharing a server in process: the card's panel shares with a user or a group, lists and
revokes, each change in the event log; bad input is a 4xx with a sentence and changes nothing;
a server with host power needs the password first. Opening a shared lab through the proxy, and
the attack on the gate, stay on the real hub (tests/integration/test_sharing.py)."""

from __future__ import annotations

import html
import itertools

import requests

from portal.platform.upstream import server_record
from tests.support.audit import audit
from tests.support.clients import PASSWORD
from tests.support.sharing import listed, revoke, share, share_rows, shared_with_me

_groups = itertools.count()


def test_owner_shares_sees_and_revokes_and_each_change_is_audited(hub, make_user):
    owner, friend = make_user("showner"), make_user("shfriend")
    r = share(owner, owner.name, friend.name)
    assert r.status_code == 200, r.text
    assert listed(r.text) == {("user", friend.name)} and f"Shared with user {friend.name}" in r.text
    assert share_rows(hub, owner.name) == {("user", friend.name)}
    assert owner.get(f"portal/users/{owner.name}/shares").status_code == 200
    # The friend's portal lists it; its Open link is the owner's lab once it runs.
    assert set(shared_with_me(friend)) == {owner.name}
    # Sharing again changes nothing and says so.
    r = share(owner, owner.name, friend.name)
    assert r.status_code == 200 and "already shared" in r.text
    r = revoke(owner, owner.name, friend.name)
    assert r.status_code == 200 and listed(r.text) == set() and "No longer shared" in r.text
    assert share_rows(hub, owner.name) == set() and shared_with_me(friend) == {}
    events = audit(hub, user=owner.name)
    kinds = [(e["kind"], e["actor"], e["detail"]) for e in events if "share" in e["kind"]]
    assert kinds == [
        ("share revoked", owner.name, f"share of {owner.name}'s server with user {friend.name} "
                                      "revoked"),
        ("share", owner.name, f"{owner.name}'s server shared with user {friend.name}")], kinds


def test_a_group_share_reaches_its_members(hub, make_user):
    owner, member = make_user("shgowner"), make_user("shmember")
    group = f"shteam{next(_groups)}"
    assert hub.api("POST", f"groups/{group}", json={"users": [member.name]}).status_code == 201
    r = share(owner, owner.name, group, kind="group")
    assert r.status_code == 200 and listed(r.text) == {("group", group)}, r.text
    page = member.get(f"portal/users/{member.name}/shared").text
    assert owner.name in shared_with_me(member) and f"with your group {group}" in page
    assert revoke(owner, owner.name, group, kind="group").status_code == 200
    assert shared_with_me(member) == {}


def test_bad_input_is_refused_with_a_sentence_and_changes_nothing(hub, make_user):
    owner, friend, stranger = make_user("shbad"), make_user("shbadf"), make_user("shstranger")
    assert share(owner, owner.name, friend.name).status_code == 200
    before = share_rows(hub, owner.name)
    cases = [
        ({"name": "nobody-here"}, 400, "There is no user named 'nobody-here'"),
        ({"name": "nogroup", "kind": "group"}, 400, "There is no group named 'nogroup'"),
        ({"name": owner.name}, 400, "owns this server already"),
        ({"name": friend.name, "kind": "robot"}, 400, "with a user or with a group"),
        ({"name": "   "}, 400, "Name the user to share with"),
    ]
    for fields, status, sentence in cases:
        r = share(owner, owner.name, **fields)
        assert (r.status_code, sentence in html.unescape(r.text)) == (status, True), (fields,
                                                                                 r.text)
    r = revoke(owner, owner.name, stranger.name)
    assert r.status_code == 404 and "is not shared with user" in r.text
    # Someone else's server: no scope to share it or revoke its shares (the hub's own answer,
    # which does not even say whether that user exists).
    for r in (share(stranger, owner.name, stranger.name),
              revoke(stranger, owner.name, friend.name)):
        assert r.status_code == 404 and "No access to resources" in r.text, r.text
    assert share_rows(hub, owner.name) == before


def test_an_admin_shares_someone_elses_server(hub, admin, make_user):
    owner, friend = make_user("shadm"), make_user("shadmf")
    r = share(admin, owner.name, friend.name)
    assert r.status_code == 200 and share_rows(hub, owner.name) == {("user", friend.name)}
    (event,) = [e for e in audit(hub, user=owner.name) if e["kind"] == "share"]
    assert event["actor"] == "admin"
    assert revoke(admin, owner.name, friend.name).status_code == 200


def test_a_server_with_host_power_needs_the_password_first(hub, make_user):
    owner, friend = make_user("shpower"), make_user("shpowerf")
    assert hub.api("POST", "groups/docker-sock/users",
                   json={"users": [owner.name]}).status_code == 200
    try:
        r = share(owner, owner.name, friend.name)
        assert r.status_code == 403 and "data-sudo" in r.text and "host power" in r.text
        assert f'name="name" value="{friend.name}"' in r.text  # the dialog sends it again
        assert share_rows(hub, owner.name) == set()
        r = share(owner, owner.name, friend.name, sudo_password="not-the-password")
        assert r.status_code == 403 and share_rows(hub, owner.name) == set()
        r = share(owner, owner.name, friend.name, sudo_password=PASSWORD)
        assert r.status_code == 200 and share_rows(hub, owner.name) == {("user", friend.name)}
        # Revoking takes access away: no password asked.
        assert revoke(owner, owner.name, friend.name).status_code == 200
    finally:
        hub.api("DELETE", "groups/docker-sock/users", json={"users": [owner.name]})


def test_the_hub_rest_api_shares_are_audited_and_sharing_with_the_owner_is_refused(hub,
                                                                                  make_user):
    owner, friend = make_user("shrest"), make_user("shrestf")
    owner.get("portal", htmx=False)  # its default server exists (a share names a server)
    r = hub.api("POST", f"users/{owner.name}/tokens", json={"expires_in": 300})
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"token {r.json()['token']}"}

    def call(method: str, body: dict) -> requests.Response:
        return requests.request(method, hub.hub_url(f"api/shares/{owner.name}/"), json=body,
                                headers=headers, timeout=30)

    r = call("POST", {"user": owner.name})
    assert r.status_code == 400 and "owns this server already" in r.json()["message"]
    assert call("POST", {"user": friend.name}).status_code == 200
    assert call("PATCH", {"user": friend.name}).status_code == 200
    assert share_rows(hub, owner.name) == set()
    details = [e["detail"] for e in audit(hub, user=owner.name) if "share" in e["kind"]]
    assert details == [
        f"share of {owner.name}'s server with user {friend.name} revoked (hub REST API)",
        f"{owner.name}'s server shared with user {friend.name} (hub REST API)"], details


def add_server_record(hub, owner: str, server: str) -> None:
    """A stopped named server of `owner` (its record only: no lab answers here)."""
    async def add() -> None:
        server_record(hub.app.users[owner], server)

    hub.run(add())


def test_a_named_server_is_shared_from_its_card_and_goes_with_its_shares(hub, make_user):
    owner, friend, stranger = make_user("shnamed"), make_user("shnamedf"), make_user("shnameds")
    add_server_record(hub, owner.name, "gpu")
    base = f"portal/users/{owner.name}/servers/gpu"
    card = owner.get(f"{base}/card").text
    assert f'hx-get="/ds%20hub/hub/{base}/shares"' in card and "Share this server" in card
    r = owner.post(f"{base}/shares", {"kind": "user", "name": friend.name})
    assert r.status_code == 200 and listed(r.text) == {("user", friend.name)}, r.text
    assert f'id="share-panel-{owner.name}--gpu"' in r.text
    assert listed(owner.get(f"portal/users/{owner.name}/shares").text) == set()  # the default
    page = friend.get(f"portal/users/{friend.name}/shared").text
    assert 'data-shared-server="gpu"' in page and "Not running" in page
    # Someone else's named server, or one the owner has not got: refused, nothing changed.
    r = owner.post(f"portal/users/{owner.name}/servers/nope/shares", {"name": friend.name})
    assert r.status_code == 404 and "has no server named 'nope'" in html.unescape(r.text)
    r = stranger.post(f"{base}/shares", {"kind": "user", "name": stranger.name})
    assert r.status_code == 404 and share_rows(hub, owner.name) == {("user", friend.name)}
    r = owner.post(f"{base}/shares/revoke", {"kind": "user", "name": friend.name})
    assert r.status_code == 200 and listed(r.text) == set()
    details = [e["detail"] for e in audit(hub, user=owner.name) if "share" in e["kind"]]
    assert details == [f"share of {owner.name}/gpu with user {friend.name} revoked",
                       f"{owner.name}/gpu shared with user {friend.name}"], details
    # Host power: the same password first as for the default server.
    assert hub.api("POST", "groups/docker-sock/users",
                   json={"users": [owner.name]}).status_code == 200
    try:
        r = owner.post(f"{base}/shares", {"kind": "user", "name": friend.name})
        assert r.status_code == 403 and "data-sudo" in r.text
        assert share_rows(hub, owner.name) == set()
        r = owner.post(f"{base}/shares", {"kind": "user", "name": friend.name,
                                          "sudo_password": PASSWORD})
        assert r.status_code == 200 and share_rows(hub, owner.name) == {("user", friend.name)}
    finally:
        hub.api("DELETE", "groups/docker-sock/users", json={"users": [owner.name]})
    # Deleting the server takes its shares along.
    r = owner.post(f"{base}/delete", {"confirm": "yes"})
    assert r.status_code == 200, r.text
    assert share_rows(hub, owner.name) == set() and shared_with_me(friend) == {}


def test_share_codes_made_accepted_and_revoked_are_audited(hub, make_user):
    owner, taker = make_user("shcode"), make_user("shcodetaker")
    add_server_record(hub, owner.name, "")  # the default server's record
    r = hub.api("POST", f"users/{owner.name}/tokens", json={"expires_in": 300})
    headers = {"Authorization": f"token {r.json()['token']}"}
    url = hub.hub_url(f"api/share-codes/{owner.name}/")
    made = requests.post(url, json={"expires_in": 3600}, headers=headers, timeout=30)
    assert made.status_code == 200, made.text
    code, code_id = made.json()["code"], made.json()["id"]
    # Someone exchanges it on the hub's page: the share it makes is recorded, by them.
    for _ in range(2):  # the second exchange changes nothing: no second event
        r = taker.s.post(taker.url("accept-share"), data={"code": code, "_xsrf": taker.xsrf},
                         allow_redirects=False, timeout=30)
        assert r.status_code == 302, r.text
    assert share_rows(hub, owner.name) == {("user", taker.name)}
    accepted = [(e["kind"], e["actor"], e["detail"]) for e in audit(hub, user=owner.name)
                if e["kind"] == "share"]
    assert accepted == [("share", taker.name, f"{owner.name}'s server shared with user "
                                              f"{taker.name} (share code {code_id} accepted)")]
    r = requests.delete(url, params={"id": code_id}, headers=headers, timeout=30)
    assert r.status_code == 204, r.text
    r = requests.delete(url, params={"id": code_id}, headers=headers, timeout=30)
    assert r.status_code == 404  # nothing left to revoke: no event
    events = [(e["kind"], e["detail"]) for e in audit(hub, user=owner.name)
              if e["kind"].startswith("share code")]
    assert [kind for kind, _ in events] == ["share code revoked", "share code"], events
    assert events[0][1] == f"share code {code_id} for {owner.name}'s server revoked (hub REST API)"
    assert events[1][1].startswith(f"share code {code_id} for {owner.name}'s server made, "
                                   "valid until ")
    assert not any(code in detail for _, detail in events)  # the code itself stays secret
