"""Attacks on accounts from a CSV, on the real hub: hostile names in a file (a look-alike of the
admin, an invisible character, a path, a formula, a newline) create nothing, not even the good
rows; the credentials go to the admin who made the batch, once; and a batch adding to
docker-sock needs sudo mode; a batch account uses nothing of the hub before it replaces its
passphrase."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from tests.support.batch import confirm, credentials, token_of, upload, wait_finished
from tests.support.clients import Portal, try_sign_in

pytestmark = [pytest.mark.docker, pytest.mark.hub]


def exists(hub, name: str) -> bool:
    r = requests.get(hub.hub_url(f"api/users/{name}"), timeout=30,
                     headers={"Authorization": f"token {hub.token}"})
    return r.status_code == 200


def make_admin(admin: Portal, name: str, flag: bool) -> requests.Response:
    """Only an admin makes admins (the driver's token may not): the session admin, in sudo
    mode, through the hub's REST API."""
    return admin.s.patch(admin.url(f"api/users/{name}"), json={"admin": flag}, timeout=30,
                         headers={"X-XSRFToken": admin.xsrf})


def test_one_hostile_row_and_nothing_is_created(hub, admin):
    hostile = ["\u0430dmin", "adm\u200bin", "../etc", "=cmd|' /C calc'!A0", '"two\nlines"',
               "ADMIN"]
    text = "name,groups\nfine-1,\nfine-2,\n" + "\n".join(f"{n}," for n in hostile) + "\n"
    r = upload(admin, text)
    assert r.status_code == 200, r.text
    assert f'data-bad="{len(hostile)}"' in r.text and "/confirm" not in r.text
    # A token guessed or replayed from another preview does not create them either.
    assert confirm(admin, "not-a-batch").status_code == 404
    assert not exists(hub, "fine-1") and not exists(hub, "fine-2")
    assert try_sign_in(hub, "fine-1", "anything-at-all").status_code != 302


def test_credentials_are_handed_out_once_to_the_admin_who_made_the_batch(hub, admin,
                                                                         make_user):
    other_admin = make_user("second-admin")
    r = make_admin(admin, other_admin.name, True)
    assert r.status_code == 200, r.text
    try:
        token = token_of(upload(admin, "name,groups\nonce-1,\nonce-2,\n"))
        # Someone else cannot confirm, watch or collect the admin's batch.
        assert confirm(other_admin, token).status_code == 404
        assert confirm(admin, token).status_code == 200
        wait_finished(admin, token)
        assert other_admin.get(f"portal/admin/batch/{token}").status_code == 404
        assert credentials(other_admin, token).status_code == 404
        assert make_user("not-admin").get(f"portal/admin/batch/{token}").status_code == 403
        r = credentials(admin, token)
        assert r.status_code == 200
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert try_sign_in(hub, "once-1", rows[0]["password"]).status_code == 302
        # Once: a second download, a fresh session of the same admin, the page again.
        assert credentials(admin, token).status_code == 410
        assert credentials(Portal(hub, "admin"), token).status_code == 410
        assert rows[0]["password"] not in admin.get(f"portal/admin/batch/{token}").text
        assert rows[0]["password"] not in hub.log_path.read_text()
    finally:
        make_admin(admin, other_admin.name, False)


def test_a_batch_into_docker_sock_needs_sudo_mode(hub):
    stolen = Portal(hub, "admin")  # a cookie without sudo mode
    token = token_of(upload(stolen, "name,groups\nsock-from-csv,docker-sock\n"))
    r = confirm(stolen, token, grants="docker-sock")
    assert r.status_code == 403 and "data-sudo" in r.text
    assert confirm(stolen, token, grants="").status_code == 409  # leaving it out is refused
    assert not exists(hub, "sock-from-csv")


def test_a_batch_passphrase_works_once_and_opens_only_the_new_password_page(hub, admin):
    token = token_of(upload(admin, "name,groups\nfresh-from-csv,\n"))
    assert confirm(admin, token).status_code == 200
    wait_finished(admin, token)
    [row] = csv.DictReader(io.StringIO(credentials(admin, token).text))
    early = Portal(hub, row["name"], row["password"])
    # Whoever read the CSV later cannot sign in with the passphrase again.
    assert try_sign_in(hub, row["name"], row["password"]).status_code != 302
    for path in ("portal", "home", "token", "portal/account", f"spawn/{row['name']}"):
        r = early.s.get(early.url(path), allow_redirects=False, timeout=10)
        assert r.status_code == 302, (path, r.status_code)
        assert r.headers["Location"].endswith("/portal/account/new-password"), path
    r = early.s.post(early.url(f"api/users/{row['name']}/tokens"), json={}, timeout=30,
                     headers={"X-XSRFToken": early.xsrf})
    assert r.status_code == 403 and "choose a new one" in r.json()["message"]
    assert early.post(f"portal/users/{row['name']}/start").status_code == 403
    new = "Csv-own-pw-2026"
    r = early.post("portal/account/new-password", {"new_password": new, "confirmation": new})
    assert r.status_code == 200, r.text
    assert early.s.get(early.url("portal"), allow_redirects=False, timeout=10).status_code == 200
    assert try_sign_in(hub, row["name"], new).status_code == 302
