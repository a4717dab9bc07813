"""Accounts in process: My account (changing one's own password, sessions and tokens), an
admin's reset, disable and enable (one account and in bulk), each refusal in a sentence. The
attacks (old cookies and tokens of a disabled account, a reset without sudo mode, a temporary
password used twice) run on the real hub: tests/integration/test_accounts.py."""

from __future__ import annotations

import re

from tests.support.audit import audit
from tests.support.clients import PASSWORD, Portal, try_sign_in

NEW = "Another-pw-for-tests-1"


def account_action(admin: Portal, name: str, action: str):
    return admin.post(f"portal/admin/accounts/{name}/{action}")


def passphrase(html: str) -> str:
    found = re.findall(r'<code class="temporary-password"[^>]*>([^<]+)</code>', html)
    assert found, html[:500]
    return found[0]


def test_my_account_page_is_in_the_menu_and_links_the_token_page(make_user):
    user = make_user("mine")
    page = user.get("portal/account", htmx=False)
    assert page.status_code == 200
    assert 'aria-current="page">My account</a>' in page.text
    assert 'href="/ds%20hub/hub/token"' in page.text or "hub/token" in page.text
    assert re.search(r'id="token-count">0<', page.text), page.text
    assert ">My account</a>" in user.get("portal", htmx=False).text


def test_my_account_counts_the_tokens_i_made_apart_from_my_servers(hub, make_user):
    user = make_user("tokencount")
    for note in ("my script", "Server at /user/tokencount/"):  # the second as the hub notes
        r = hub.api("POST", f"users/{user.name}/tokens", json={"note": note})
        assert r.status_code == 201, r.text
    page = user.get("portal/account", htmx=False).text
    assert re.search(r'id="token-count">1</span> API token you made', page), page
    assert re.search(r'id="server-token-count">1</span> token\s+the hub gave your running '
                     r"server \(ended when it stops\)", page), page


def test_changing_ones_own_password_refuses_in_sentences_and_loses_nothing(hub, make_user):
    user = make_user("changer")

    def change(old: str, new: str, confirmation: str):
        return user.post("portal/account/password", {"old_password": old, "new_password": new,
                                                     "confirmation": confirmation})

    r = change(PASSWORD, NEW, NEW + "x")
    assert r.status_code == 400 and "its confirmation differ" in r.text
    r = change("not-my-password", NEW, NEW)
    assert r.status_code == 403 and "current password was incorrect" in r.text
    r = change(PASSWORD, "short", "short")
    assert r.status_code == 400 and "at least 8 characters" in r.text
    assert "Nothing was changed" in r.text
    assert try_sign_in(hub, user.name, PASSWORD).status_code == 302  # still the old one
    other = Portal(hub, user.name)
    r = change(PASSWORD, NEW, NEW)
    assert r.status_code == 200 and "Your password has been changed" in r.text
    assert user.get("portal/account", htmx=False).status_code == 200  # this session goes on
    gone = other.s.get(other.url("portal"), allow_redirects=False, timeout=10)
    assert gone.status_code == 302 and "login" in gone.headers["Location"]
    assert try_sign_in(hub, user.name, PASSWORD).status_code != 302
    assert try_sign_in(hub, user.name, NEW).status_code == 302
    kinds = [e["detail"] for e in audit(hub, user=user.name, kind="password change")]
    assert kinds == ["password changed (their own, with the old password); other sessions ended"]


def test_a_reset_shows_a_temporary_password_once_which_must_be_replaced(hub, admin, make_user):
    user = make_user("forgetful")
    r = account_action(admin, user.name, "reset-password")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    temporary = passphrase(r.text)
    assert temporary not in hub.log_path.read_text()
    assert try_sign_in(hub, user.name, PASSWORD).status_code != 302  # the old one is gone
    table = admin.get("portal/admin/user-table", params={"q": user.name}).text
    assert "must choose a password" in table
    signed = Portal(hub, user.name, temporary)
    # Every page leads to the new-password page until one is chosen; the API is refused.
    r = signed.s.get(signed.url("portal"), allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].endswith("portal/account/new-password")
    r = signed.s.get(signed.url(f"api/users/{user.name}"), timeout=10)
    assert r.status_code == 403 and "choose a new one" in r.json()["message"]
    page = signed.get("portal/account/new-password", htmx=False)
    assert page.status_code == 200 and "Choose a new password" in page.text
    r = signed.post("portal/account/new-password", {"new_password": NEW, "confirmation": "x"})
    assert r.status_code == 400 and "its confirmation differ" in r.text
    r = signed.post("portal/account/new-password", {"new_password": NEW, "confirmation": NEW})
    assert r.status_code == 200 and r.headers["HX-Redirect"].endswith("/portal")
    assert signed.get("portal", htmx=False).status_code == 200
    assert try_sign_in(hub, user.name, NEW).status_code == 302
    r = signed.post("portal/account/new-password", {"new_password": NEW, "confirmation": NEW})
    assert r.status_code == 409 and "was not reset" in r.text
    [event] = audit(hub, user=user.name, kind="password reset")
    assert event["actor"] == "admin" and temporary not in event["detail"]


def test_account_actions_refuse_in_sentences(hub, admin, make_user):
    user = make_user("plain")
    r = account_action(admin, "admin", "reset-password")
    assert r.status_code == 409 and "your own account" in r.text
    r = account_action(admin, "admin", "disable")
    assert r.status_code == 409 and "your own account" in r.text
    r = account_action(admin, "nobody-here", "disable")
    assert r.status_code == 404 and "No such user" in r.text
    r = account_action(admin, user.name, "enable")
    assert r.status_code == 409 and "is not disabled" in r.text
    other = make_user("bystander")
    for action in ("reset-password", "disable", "enable"):
        assert account_action(other, user.name, action).status_code == 403
    assert try_sign_in(hub, user.name, PASSWORD).status_code == 302


def test_disable_then_enable_one_account(hub, admin, make_user):
    user = make_user("leaver")
    r = account_action(admin, user.name, "disable")
    assert r.status_code == 200 and "is disabled" in r.text and "volumes are kept" in r.text
    r = account_action(admin, user.name, "disable")
    assert r.status_code == 409 and "already disabled" in r.text
    table = admin.get("portal/admin/user-table", params={"q": user.name}).text
    assert "account-state\">disabled" in table and f"{user.name}/enable" in table
    r = admin.post(f"portal/users/{user.name}/start")
    assert r.status_code == 409 and "enable it before starting" in r.text
    refused = try_sign_in(hub, user.name, PASSWORD)
    assert refused.status_code == 403 and "is disabled" in refused.text
    wrong = try_sign_in(hub, user.name, "not-the-password")
    assert "Invalid username or password." in wrong.text and "disabled" not in wrong.text
    r = account_action(admin, user.name, "enable")
    assert r.status_code == 200 and "can sign in again" in r.text
    assert try_sign_in(hub, user.name, PASSWORD).status_code == 302
    kinds = [e["kind"] for e in audit(hub, user=user.name) if e["kind"].endswith("abled")]
    assert kinds == ["account enabled", "account disabled"]


def test_bulk_disable_enable_and_reset(hub, admin, make_user):
    names = [make_user("crowd").name for _ in range(2)]

    def bulk(action: str):
        return admin.post("portal/admin/bulk", {"action": action, "user": names,
                                                "scope": "selected"})

    r = bulk("disable")
    assert r.status_code == 200 and "2 of 2 done" in r.text, r.text
    assert all(try_sign_in(hub, n, PASSWORD).status_code == 403 for n in names)
    r = bulk("enable")
    assert r.status_code == 200 and "2 of 2 done" in r.text
    r = bulk("reset-password")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    temporaries = re.findall(r"temporary password (\S+) \(shown only this once\)", r.text)
    assert len(temporaries) == 2
    assert try_sign_in(hub, names[0], temporaries[0]).status_code == 302
