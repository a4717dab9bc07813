"""Limit settings in process: bad input gets a readable 4xx and changes nothing, and users may
not change them. What limits do to a lab stays on the real engine (tests/integration/
test_limits.py)."""

from __future__ import annotations

import html

from tests.support.limits import api_limits, events, make_group, set_limits


def test_bad_limits_get_a_readable_4xx_and_change_nothing(hub, admin, make_user):
    make_group(hub, "lim-bad")
    assert set_limits(admin, "lim-bad", "2G", "1").status_code == 200
    before, logged = api_limits(hub), len(events(hub, "limit change"))
    cases = [
        ("lim-bad", "-1G", "1", 400, "is not a size"),
        ("lim-bad", "lots", "1", 400, "is not a size"),
        ("lim-bad", "2G", "64", 400, "this host's CPU count"),
        ("lim-bad", "2G", "-0.5", 400, "is not valid"),
        ("no-such-group", "2G", "1", 404, "There is no group named 'no-such-group'"),
    ]
    for group, memory, cpus, status, words in cases:
        r = set_limits(admin, group, memory, cpus)
        assert r.status_code == status and words in html.unescape(r.text), (group, r.text)
        r = hub.api("PUT", f"../portal/api/limits/groups/{group}",
                    json={"memory": memory, "cpus": cpus})
        assert r.status_code == status and words in r.json()["message"], r.text
    r = hub.api("PUT", "../portal/api/limits/groups/lim-bad", data="[1")
    assert r.status_code == 400
    assert api_limits(hub) == before and len(events(hub, "limit change")) == logged
    # Admins only: a user may neither read nor change limits.
    user = make_user("nosy")
    assert user.post("portal/admin/limits", {"group": "lim-bad", "memory": "none"}
                     ).status_code == 403
    assert api_limits(hub) == before
