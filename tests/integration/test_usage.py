"""Live usage from the background sampler: owner and admins read it, others do not."""

from __future__ import annotations

import re
import time

from tests.support.clients import ensure_running, ensure_stopped


def usage_of(portal, user: str) -> dict:
    r = portal.get(f"portal/api/users/{user}/usage", htmx=False)
    assert r.status_code == 200, r.text
    return r.json()


def test_running_lab_shows_cpu_memory_and_volume_sizes(hub, admin, make_user):
    user, other = make_user("measured"), make_user("curious")
    ensure_running(user)
    deadline, sample = time.monotonic() + 40, None
    while time.monotonic() < deadline:
        sample = usage_of(user, user.name)["usage"]
        if sample and sample["cpus"] is not None:  # two samples make a CPU figure
            break
        time.sleep(1)
    assert sample and sample["cpus"] is not None, sample
    assert sample["memory_bytes"] > 10 * 1024**2
    assert set(sample["volumes"]) == {"home", "workspace", "cache"}
    assert sample["age_seconds"] < 15
    card = user.get(f"portal/users/{user.name}/card").text
    assert "Using:" in card and "volumes: home" in card
    # The admin's user table shows the same sample in the user's row, and the limits.
    table = admin.get(f"portal/admin/user-table?q={user.name}").text
    row = table[table.index(f'<tr data-user="{user.name}"'):]
    row = row[:row.index("</tr>")]
    assert re.search(r'class="usage-cpu">\d+\.\d\d<', row), row
    assert re.search(r'class="usage-memory">[\d.]+ [KMG]iB', row), row
    assert re.search(r'memory( limit)?, (no CPU limit|[\d.]+ CPUs?)<', row), row

    # Admins see every lab, sortable; another user sees nothing of it.
    assert usage_of(admin, user.name)["usage"] is not None
    labs = admin.get("portal/api/usage?sort=memory", htmx=False).json()["labs"]
    assert user.name in [lab["user"] for lab in labs]
    memories = [lab["memory_bytes"] for lab in labs]
    assert memories == sorted(memories, reverse=True)
    assert admin.get("portal/api/usage?sort=bogus", htmx=False).status_code == 400
    section = admin.get("portal/admin/usage?sort=cpu").text
    assert f'data-user="{user.name}"' in section
    assert other.get(f"portal/api/users/{user.name}/usage", htmx=False).status_code in (403, 404)
    assert other.get("portal/api/usage", htmx=False).status_code == 403
    ensure_stopped(user)
    assert "Using:" not in user.get(f"portal/users/{user.name}/card").text


def own_history(portal) -> dict:
    r = portal.get(f"portal/api/users/{portal.name}/usage/history", htmx=False)
    assert r.status_code == 200, r.text
    return r.json()


def wait_for_lab_hours(portal, above: float, bound: float = 45) -> float:
    """This month's lab hours of `portal`'s user, once above `above` (the store has them)."""
    deadline, hours = time.monotonic() + bound, 0.0
    while time.monotonic() < deadline:
        hours = own_history(portal)["month"]["lab_hours"]
        if hours > above:
            return hours
        time.sleep(1)
    raise AssertionError(f"lab hours stayed at {hours} (wanted more than {above})")


def test_a_labs_usage_reaches_the_history_survives_a_hub_restart_and_counts_for_quotas(
        hub, admin, make_user):
    user = make_user("historied")
    ensure_running(user)
    before = wait_for_lab_hours(user, 0.0)  # samples every 5 s, written every 5 s
    rows = admin.get("portal/api/insights/users?period=day", htmx=False).json()["rows"]
    mine = next(r for r in rows if r["name"] == user.name)
    assert mine["lab_hours"] > 0 and mine["memory_peak_bytes"] > 10 * 1024**2
    hub.restart()  # SIGTERM: what the hub gathered since its last write is written first
    assert re.search(r"Usage history: \d+ rollups written at shutdown", hub.log_path.read_text())
    assert own_history(user)["month"]["lab_hours"] >= before  # nothing was lost
    wait_for_lab_hours(user, before)  # the next hub adds to the same hours
    ensure_stopped(user)
    # A lab-hours quota its member has used up: Start is refused, saying when they renew.
    group = f"quota-{user.name}"
    assert hub.api("POST", f"groups/{group}", json={"users": [user.name]}).status_code == 201
    r = admin.s.put(admin.url(f"portal/api/quotas/groups/{group}"), json={"lab_hours": 0.0001},
                    headers={"X-XSRFToken": admin.xsrf}, timeout=30)
    assert r.status_code == 200, r.text
    r = user.s.post(user.url(f"portal/api/users/{user.name}/server/start"), timeout=30,
                    headers={"X-XSRFToken": user.xsrf})
    assert r.status_code == 409 and "they renew on" in r.json()["message"]
