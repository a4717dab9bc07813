"""The volumes dialog and reset in process, over the in-memory engine: the user's volumes by the
names the spawner renders (escaped user names), sizes measured once for many openings, and a
reset that meets Docker's refusals (a volume a container holds, one never created).

The reset of a real lab's files and its refusal while the lab runs stay on the real hub
(tests/integration/test_portal_actions.py).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.support.clients import PASSWORD, Portal


def test_volumes_modal_lists_own_volumes_with_sizes(make_user, hub, engine):
    user = make_user("modal")
    r = user.get(f"portal/users/{user.name}/volumes")
    assert r.status_code == 200
    assert r.text.count("not created yet") == 3
    hub.claim_volumes(user.name)
    html = user.get(f"portal/users/{user.name}/volumes").text
    assert "not created yet" not in html
    for key in ("home", "workspace", "cache"):
        assert f'value="{key}"' in html
    assert 'value="shared"' not in html


def _fresh(answer: dict) -> bool:
    """Sizes measured, none in flight, and young enough to outlive a burst of openings."""
    age = answer["sizes_age_s"]
    return not answer["sizes_measuring"] and age is not None and age < 40


def test_volume_sizes_are_measured_once_for_many_openings_and_labelled_with_their_age(
        make_user, hub, engine):
    """A user opening the modal again and again must not run `docker system df` each time."""
    user = make_user("sizes")
    hub.claim_volumes(user.name)
    url = hub.hub_url(f"portal/api/users/{user.name}/volumes")
    answers: list[dict] = []

    def fresh() -> bool:
        r = user.s.get(url, timeout=60)
        assert r.status_code == 200, r.text
        answers.append(r.json())
        return _fresh(answers[-1])

    hub.wait_for(fresh, timeout=60, what="a fresh size measurement")
    measured = engine.calls.count("df")
    assert measured >= 1
    with ThreadPoolExecutor(max_workers=10) as pool:
        burst = list(pool.map(lambda _: user.s.get(url, timeout=60), range(40)))
    assert all(r.status_code == 200 for r in burst)
    # One measurement serves every opening within a minute; each answer says how old it is.
    assert engine.calls.count("df") == measured
    ages = [r.json()["sizes_age_s"] for r in burst]
    assert all(isinstance(a, float | int) and 0 <= a < 60 for a in ages), ages
    html = user.get(f"portal/users/{user.name}/volumes").text
    assert "Sizes measured" in html and "s ago" in html


def test_reset_removes_the_spawners_own_names_and_reports_what_docker_refused(admin, hub,
                                                                                engine):
    # A name the spawner escapes in Docker names: the portal must act on its rendering.
    name = f"zoë{time.monotonic_ns() % 10**6}"
    assert admin.post("portal/admin/users", {"username": name, "password": PASSWORD}
                      ).status_code == 200
    user = Portal(hub, name)
    home, workspace, cache = hub.claim_volumes(name)
    assert "ë" not in home and home.endswith("_home"), home
    # Something outside the hub holds the cache volume (a stopped container still does), and
    # the workspace was never created.
    engine.create_container("dshub-lab:latest", name=f"holder-{name.encode().hex()}",
                            host_config=engine.create_host_config(
                                binds={cache: {"bind": "/c", "mode": "rw"}}))
    engine.remove_volume(workspace)

    r = user.post(f"portal/users/{name}/volumes/reset",
                  {"volume": ["home", "workspace", "cache"], "confirm": "yes"})
    assert r.status_code == 200, r.text
    assert "Reset: home" in r.text
    assert "Nothing to reset (not created yet): workspace" in r.text
    assert "Not reset: cache" in r.text and "in use by container holder-" in r.text
    assert engine.volume_names(home) == [] and engine.volume_names(cache) == [cache]
    rows = hub.sql("portal", "SELECT detail, ok FROM audit_events WHERE kind = 'volume reset'"
                   " AND target = :name", name=name)
    assert len(rows) == 1 and not rows[0][1] and "failed {'cache'" in rows[0][0], rows


def test_a_flood_of_modal_openings_leaves_the_actions_pool_alone(make_user, hub, engine):
    """The volume modal lists volumes and sizes on the sizes pool; in the pool that starts,
    restarts and resets use it makes only the card's ping (trusted 3 s): however often one
    user opens it, another's restart never waits behind it (docs/benchmarks.md, section 12)."""
    user = make_user("flooder")
    hub.claim_volumes(user.name)
    url = f"portal/users/{user.name}/volumes"
    assert user.get(url).status_code == 200  # the first measurement of sizes starts here
    mark = len(engine.threads)
    with ThreadPoolExecutor(max_workers=10) as pool:
        burst = list(pool.map(lambda _: user.get(url), range(60)))
    assert all(r.status_code == 200 for r in burst)
    calls = engine.threads[mark:]
    # How many pings depends on timing (openings at once each ask before the first answer is
    # trusted), so only their kind is checked: nothing but the ping reaches that pool.
    actions = [method for method, thread in calls if thread.startswith("portal-docker")]
    assert set(actions) <= {"ping"}, actions
    assert [m for m, t in calls if t.startswith("portal-sizes")].count("volumes") == 60
