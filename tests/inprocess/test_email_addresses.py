"""Email addresses in process: set on My account with the password (each refusal in a sentence,
nothing changed), seen by admins in the user table, kept in the portal's store, removed again;
an address given at sign-up is checked the same way. Mail to these addresses:
tests/inprocess/test_mail.py; a stolen cookie on the real hub:
tests/integration/test_accounts.py."""

from __future__ import annotations

from tests.support.audit import audit
from tests.support.clients import PASSWORD, signup


def set_email(user, address: str, password: str = PASSWORD):
    return user.post("portal/account/email", {"email": address, "password": password})


def test_an_account_sets_its_address_with_its_password_and_admins_see_it(hub, admin, make_user):
    user = make_user("addressed")
    r = set_email(user, "ann@example.org", "not-my-password")
    assert r.status_code == 403 and "password was incorrect" in r.text
    r = set_email(user, "ann@example", PASSWORD)
    assert r.status_code == 400 and "domain name such as example.org" in r.text
    r = set_email(user, "Ann <ann@example.org>", PASSWORD)
    assert r.status_code == 400 and "no spaces" in r.text
    assert hub.sql("portal", "SELECT address FROM email_addresses WHERE user = :n",
                   n=user.name) == []
    r = set_email(user, "Ann@Example.ORG")
    assert r.status_code == 200 and "now Ann@example.org" in r.text
    page = user.get("portal/account", htmx=False).text
    assert 'value="Ann@example.org"' in page
    table = admin.get("portal/admin/user-table", params={"q": user.name}).text
    assert "Ann@example.org" in table
    assert "Ann@example.org" not in user.get("portal/admin/user-table",
                                             params={"q": user.name}).text
    assert hub.sql("portal", "SELECT address FROM email_addresses WHERE user = :n",
                   n=user.name) == [("Ann@example.org",)]
    r = set_email(user, "")
    assert r.status_code == 200 and "removed" in r.text
    assert "Ann@example.org" not in admin.get("portal/admin/user-table",
                                              params={"q": user.name}).text
    kinds = [e["detail"] for e in audit(hub, user=user.name, kind="email address")]
    assert sorted(kinds) == ["address removed", "address set"]
    assert "example.org" not in str(kinds)  # the log says what happened, not the address


def test_a_sign_up_may_give_an_address_checked_like_the_others(hub, admin):
    r = signup(hub, "signs-up-badly", email="eve@example.org\nBcc: x@example.org")
    assert r.status_code == 400 and "No account was created" in r.text
    assert hub.sql("hub", "SELECT username FROM users_info WHERE username = 'signs-up-badly'") \
        == []
    assert signup(hub, "signs-up-mailed", email="Sam@Example.org").status_code == 200
    assert hub.sql("hub", "SELECT email FROM users_info WHERE username = 'signs-up-mailed'") \
        == [("Sam@example.org",)]
    assert signup(hub, "signs-up-plain").status_code == 200
    assert hub.sql("hub", "SELECT email FROM users_info WHERE username = 'signs-up-plain'") \
        == [(None,)]
