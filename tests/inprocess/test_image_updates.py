"""Image updates in process (issue 25): the admins' Images section and its JSON API (admins
only), and "Re-create to update" refused with a sentence, recorded, nothing changed, for a
server that does not run. A running lab whose tag moves, the card's notice and the update itself
are on the real engine (tests/integration/test_image_updates.py); the card's logic in every state
is tests/unit/test_server_state_machine.py."""

from __future__ import annotations

import html

from tests.support.limits import events


def test_the_images_section_and_api_are_for_admins(hub, admin, make_user):
    page = admin.get("portal/admin/images")
    assert page.status_code == 200, page.text
    assert 'data-where="this hub&#39;s Docker engine"' in page.text
    assert "No lab runs here." in page.text or "data-image=" in page.text
    assert admin.get("portal/admin/images", htmx=False).status_code == 200  # the whole page
    assert 'href="/ds%20hub/hub/portal/admin/images"' in admin.get("portal/admin").text
    r = hub.api("GET", "../portal/api/images")
    assert r.status_code == 200, r.text
    [engine] = r.json()["engines"]
    assert engine["where"] == "this hub's Docker engine" and engine["problem"] is None
    user = make_user("img-nosy")
    assert user.get("portal/admin/images").status_code == 403
    assert user.s.get(user.url("portal/api/images"), timeout=30).status_code == 403


def test_updating_a_server_that_does_not_run_is_refused_and_recorded(hub, make_user, engine):
    user = make_user("img-stopped")
    card = user.get(f"portal/users/{user.name}/card").text
    assert "Re-create to update" not in card and "data-newer-image" not in card
    before = list(engine.container_records)
    r = user.post(f"portal/users/{user.name}/update", {})
    assert r.status_code == 409, r.text
    assert "Only a running server can be re-created to update" in html.unescape(r.text)
    r = user.s.post(user.url(f"portal/api/users/{user.name}/server/update"), json={},
                    headers={"X-XSRFToken": user.xsrf}, timeout=30)
    assert r.status_code == 409 and "start it instead" in r.json()["message"], r.text
    r = user.s.post(user.url(f"portal/api/users/{user.name}/server/update"),
                    json={"environment": "x"}, headers={"X-XSRFToken": user.xsrf}, timeout=30)
    assert r.status_code == 400 and "update takes no user_options" in r.json()["message"]
    assert list(engine.container_records) == before  # nothing created or removed
    refused = [(d, ok) for _, _, d, ok in events(hub, "image update", user.name)]
    assert len(refused) == 2 and not any(ok for _, ok in refused)
    assert refused[0][0].startswith("refused: Only a running server")
    state = user.s.get(user.url(f"portal/api/users/{user.name}/server"), timeout=30).json()
    assert state["image"] is None and state["newer_image_id"] is None
