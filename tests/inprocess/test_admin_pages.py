"""The admin console in process: a page per section at its own address with the shared sidebar,
the fragment at the same address for htmx, scopes, old addresses, positions in the URL, audit
links and the dashboard. What needs a browser (back and forward, axe, themes, a phone) is in
tests/ui/test_admin_console_ui.py."""

from __future__ import annotations

import re

from requests.utils import requote_uri

from portal.admin import dashboard
from portal.views.admin_pages import SECTIONS
from tests.support.insights import runtime_of

PAGES = [s.slug for s in SECTIONS]


def page(admin, slug: str, query: str = ""):
    path = f"portal/admin/{slug}".rstrip("/") + (f"?{query}" if query else "")
    return admin.get(path, htmx=False)


def fragment(admin, path: str, current: str = "", **headers: str):
    """An htmx GET; `current` is the address bar's path (HX-Current-URL)."""
    sent = {"HX-Request": "true", **headers}
    if current:
        sent["HX-Current-URL"] = requote_uri(admin.url(current))
    return admin.s.get(admin.url(path), headers=sent, timeout=30)


def test_every_section_is_a_page_with_the_sidebar(admin):
    for s in SECTIONS:
        r = page(admin, s.slug)
        assert r.status_code == 200, (s.slug, r.text[:300])
        nav = r.text[r.text.index('<nav class="admin-nav"'):r.text.index("</nav>",
                                                                          r.text.index("admin-nav"))]
        current = re.findall(r'aria-current="page">([^<]+)<', nav)
        assert current == [s.title], s.slug
        assert nav.count("<li>") == len(SECTIONS) - (0 if "Sign-ups" in nav else 1)
        assert f"<title>DS Hub admin: {s.title}</title>" in r.text


def test_one_address_answers_a_browser_with_the_page_and_htmx_with_the_fragment(admin):
    r = fragment(admin, "portal/admin/audit")
    assert r.status_code == 200 and "<html" not in r.text and 'id="audit-feed"' in r.text
    assert "HX-Request" in r.headers["Vary"]
    # htmx restoring history it no longer holds swaps a whole page in
    r = fragment(admin, "portal/admin/audit", **{"HX-History-Restore-Request": "true"})
    assert "<html" in r.text and 'class="admin-nav"' in r.text
    for path in ("portal/admin/gpu", "portal/admin/signups", "portal/admin/dashboard"):
        r = fragment(admin, path)
        assert r.status_code == 200 and "<html" not in r.text, path


def test_the_pages_keep_each_sections_scopes(make_user):
    user = make_user("not-an-admin")
    for slug in PAGES:
        assert page(user, slug).status_code == 403, slug
    assert fragment(user, "portal/admin/dashboard").status_code == 403


def test_old_addresses_lead_to_the_pages(admin):
    r = admin.get("portal/admin?q=adm&sort=name", htmx=False)
    assert r.history and r.history[0].status_code == 302
    assert r.url.endswith("/portal/admin/users?q=adm&sort=name")
    assert "user-table?q=adm&amp;sort=name&amp;refresh=1" in r.text
    # #anchors of the one long page: the sidebar lists them, portal.js follows them
    home = page(admin, "").text
    assert "&#34;admin-audit&#34;: &#34;audit&#34;" in home or '"admin-audit": "audit"' in home


def test_filters_and_pages_live_in_the_address(admin, make_user):
    user = make_user("audited")
    admin.post("portal/admin/groups/docker-privileged/add", {"username": user.name})
    admin.post("portal/admin/groups/docker-privileged/remove", {"username": user.name})
    on_page = "portal/admin/audit"
    r = fragment(admin, f"{on_page}?user={user.name}&actor=&kind=", current=on_page)
    assert r.headers["HX-Push-Url"].endswith(f"/portal/admin/audit?user={user.name}")
    # the same position, a load hint, or the section shown elsewhere: no history entry
    for query, current in ((f"user={user.name}", f"{on_page}?user={user.name}"),
                           ("refresh=1", on_page), (f"user={user.name}", "portal/admin")):
        assert "HX-Push-Url" not in fragment(admin, f"{on_page}?{query}", current).headers
    r = fragment(admin, f"{on_page}?user={user.name}&limit=1&offset=1", current=on_page)
    assert r.headers["HX-Push-Url"].endswith(f"audit?user={user.name}&limit=1&offset=1")
    # reload: the page loads its section at that position
    text = page(admin, "audit", f"user={user.name}&offset=1").text
    assert f"portal/admin/audit?user={user.name}&amp;offset=1" in text
    r = fragment(admin, "portal/admin/dormant?days=90", current="portal/admin/dormant")
    assert r.headers["HX-Push-Url"].endswith("/portal/admin/dormant?days=90")
    r = fragment(admin, "portal/admin/usage?sort=cpu", current="portal/admin/usage")
    assert r.headers["HX-Push-Url"].endswith("/portal/admin/usage?sort=cpu")
    assert "usage?sort=cpu" in page(admin, "usage", "sort=cpu").text


def test_audit_events_link_to_what_they_concern(admin, make_user, hub):
    user = make_user("linked")
    admin.post("portal/admin/groups/docker-sock/add", {"username": user.name})
    admin.post("portal/admin/groups/docker-sock/remove", {"username": user.name})
    assert hub.api("POST", "groups/ap-linked").status_code == 201
    assert admin.post("portal/admin/limits", {"group": "ap-linked", "memory": "1G"}).ok
    html = fragment(admin, "portal/admin/audit").text
    assert f'users?q={user.name}" data-links="user"' in html
    assert f'audit?user={user.name}"' in html
    assert 'users?group=ap-linked" data-links="group"' in html


def test_the_dashboard_counts_warns_and_lists_recent_events(admin, make_user, hub, engine,
                                                            monkeypatch):
    member = make_user("powerful")
    admin.post("portal/admin/groups/docker-privileged/add", {"username": member.name})
    try:
        html = fragment(admin, "portal/admin/dashboard").text
        users = hub.api("GET", "users?limit=1", headers={
            "Accept": "application/jupyterhub-pagination+json"}).json()["_pagination"]["total"]
        assert f'data-count="users">{users}<' in html
        assert re.search(r'data-count="host-power"[^>]*>[1-9]', html) and member.name in html
        # (another test's quota may be used up: the alerts of this test are its own)
        assert 'data-count="signups">' in html and 'data-alert="docker"' not in html
        assert "sse:users-changed" in html  # it reloads on the page's event stream
        assert f'users?q={member.name}" data-links="user"' in html  # its recent events

        runtime = runtime_of(hub)
        monkeypatch.setattr(dashboard, "LOW_DISK_BYTES", 1 << 62)
        monkeypatch.setattr(runtime.quotas, "used_up", lambda: {member.name: "used up"})
        engine.up = False
        runtime.docker._ping_ok_at = float("-inf")  # forget the last good ping (3 s)
        html = fragment(admin, "portal/admin/dashboard").text
        assert {"docker", "disk", "quota"} <= set(re.findall(r'data-alert="(\w+)"', html))
        assert "The Docker engine does not answer" in html
    finally:
        engine.up = True
        admin.post("portal/admin/groups/docker-privileged/remove", {"username": member.name})
