"""Accounts from a CSV in process: the preview names every bad row and nothing is created while
one is; a good batch is created, approved, in its groups, audited, with credentials downloadable
once; 1,000 rows while the hub keeps answering; a Docker-access group asks for sudo mode. The
attacks on the real hub: tests/integration/test_batch_accounts.py."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from tests.support.audit import audit
from tests.support.batch import confirm, credentials, token_of, upload, wait_finished
from tests.support.clients import PASSWORD, Portal, try_sign_in


def make_group(hub, name: str) -> None:
    r = requests.post(hub.hub_url(f"api/groups/{name}"), timeout=30,
                      headers={"Authorization": f"token {hub.token}"})
    assert r.status_code in (201, 409), r.text


def hub_user(hub, name: str) -> requests.Response:
    return requests.get(hub.hub_url(f"api/users/{name}"), timeout=30,
                        headers={"Authorization": f"token {hub.token}"})


def test_the_preview_explains_every_bad_row_and_nothing_is_created(hub, admin):
    make_group(hub, "batch-team")
    text = ("name,groups,environment\n"
            "batch-ok,batch-team,python\n"
            "admin,,\n"                       # taken
            "\u0430dmin,,\n"                  # a Cyrillic a: looks like admin
            "a/b,,\n"                         # a bad character
            "batch-dup,,\n"
            "Batch-Dup,,\n"                   # the same name once normalised
            "batch-lonely,no-such-group,\n")
    r = upload(admin, text)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.text
    assert 'data-bad="5"' in r.text and "Nothing will be created" in r.text
    assert "environment column is ignored: each user chooses" in r.text
    for expected in ("admin is already an account here", "looks like the existing account admin",
                     "bad character &#39;/&#39;", "also on line 6",
                     "unknown group no-such-group"):
        assert expected in r.text, expected
    assert "/confirm" not in r.text
    assert hub_user(hub, "batch-ok").status_code == 404
    r = upload(admin, "user,groups\nx,\n")
    assert r.status_code == 400 and "first line must name the columns" in r.text
    assert upload(admin, "name,groups\n").status_code == 400


def test_a_good_batch_is_created_with_credentials_downloadable_once(hub, admin):
    make_group(hub, "batch-class")
    r = upload(admin, "name,groups\nclass-1,batch-class\nclass-2,batch-class\nclass-3,\n")
    token = token_of(r)
    r = confirm(admin, token)
    assert r.status_code == 200 and "Creating accounts" in r.text or 'data-finished' in r.text
    assert confirm(admin, token).status_code == 409  # once
    done = wait_finished(admin, token)
    assert "3</span> of 3 accounts created" in done.text
    other = Portal(hub, "admin")  # the same admin, another session: the token is the admin's
    r = credentials(admin, token)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["name"] for row in rows] == ["class-1", "class-2", "class-3"]
    again = credentials(other, token)
    assert again.status_code == 410 and "downloaded already" in again.text
    assert try_sign_in(hub, "class-2", rows[1]["password"]).status_code == 302
    assert try_sign_in(hub, "class-3", PASSWORD).status_code != 302
    groups = hub_user(hub, "class-1").json()["groups"]
    assert groups == ["batch-class"] and hub_user(hub, "class-3").json()["groups"] == []
    [event] = audit(hub, user="class-1", kind="account created")
    assert event["actor"] == "admin" and "from a CSV" in event["detail"]
    assert rows[0]["password"] not in str(audit(hub, user="class-1"))


def test_a_batch_passphrase_must_be_replaced_at_the_first_sign_in(hub, admin):
    token = token_of(upload(admin, "name,groups\nfirst-1,\n"))
    assert confirm(admin, token).status_code == 200
    wait_finished(admin, token)
    [row] = csv.DictReader(io.StringIO(credentials(admin, token).text))
    table = admin.get("portal/admin/user-table", params={"q": "first-1"}).text
    assert "must choose a password" in table
    signed = Portal(hub, "first-1", row["password"])
    r = signed.s.get(signed.url("portal"), allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].endswith("portal/account/new-password")
    page = signed.get("portal/account/new-password", htmx=False)
    assert "generated" in page.text and "Choose a new password" in page.text
    assert try_sign_in(hub, "first-1", row["password"]).status_code != 302  # it worked once
    new = "First-own-pw-2026"
    r = signed.post("portal/account/new-password", {"new_password": new, "confirmation": new})
    assert r.status_code == 200 and r.headers["HX-Redirect"].endswith("/portal")
    assert signed.get("portal", htmx=False).status_code == 200
    assert try_sign_in(hub, "first-1", new).status_code == 302
    [event] = audit(hub, user="first-1", kind="password change")
    assert "replacing one an admin set" in event["detail"] and event["actor"] == "first-1"


# 1,000 password hashes: the same portal code on both lines, so the default line's pass only.
@pytest.mark.default_line_only
def test_a_thousand_rows_while_the_hub_keeps_answering(hub, admin):
    names = [f"bulk-{i:04d}" for i in range(1000)]
    token = token_of(upload(admin, "name,groups\n" + "\n".join(names) + "\n"))
    assert confirm(admin, token).status_code == 200
    answers = []

    def meanwhile() -> None:
        answers.append(requests.get(hub.hub_url("health"), timeout=30).status_code)

    done = wait_finished(admin, token, timeout=300, meanwhile=meanwhile)
    assert "1000</span> of 1000 accounts created" in done.text
    assert answers and set(answers) == {200}  # the hub answered all along
    rows = list(csv.DictReader(io.StringIO(credentials(admin, token).text)))
    assert len(rows) == 1000 and len({row["password"] for row in rows}) == 1000
    assert hub_user(hub, names[-1]).status_code == 200


def test_a_docker_access_group_asks_for_sudo_mode(hub, admin):
    text = "name,groups\nsock-batch,docker-sock\n"
    token = token_of(upload(admin, text))
    # The confirmation must name the batch's Docker-access groups (the gate reads them).
    r = confirm(admin, token, grants="")
    assert r.status_code == 409 and "does not name every Docker-access group" in r.text
    fresh = Portal(hub, "admin")  # no sudo mode
    r = confirm(fresh, token_of(upload(fresh, text)), grants="docker-sock")
    assert r.status_code == 403 and "data-sudo" in r.text
    assert hub_user(hub, "sock-batch").status_code == 404
    r = confirm(admin, token, grants="docker-sock")
    assert r.status_code == 200
    wait_finished(admin, token)
    assert hub_user(hub, "sock-batch").json()["groups"] == ["docker-sock"]
    [event] = audit(hub, user="sock-batch", kind="group change")
    assert event["detail"] == "added to docker-sock"
