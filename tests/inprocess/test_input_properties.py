"""Hostile input on every form and JSON endpoint: never a 500, never a change of state.

In process: the handlers' validation needs no lab, and the user's volumes are made as a start
makes them (the spawner's names and labels) in the in-memory engine, so a wrongful reset shows.
The actions themselves run end to end on the real hub (tests/integration/test_portal_actions.py,
test_docker_groups.py)."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The other JupyterHub line's pass (scripts/test.sh) tries fewer: the portal's validation is
# the same code on both lines; only the hub's request handling around it differs.
EXAMPLES = int(os.environ.get("DSHUB_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
text = st.text(max_size=300)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def target(make_user, hub):
    user = make_user("fuzzed")
    assert hub.claim_volumes(user.name)  # volumes exist, so a wrongful reset would show
    return user


def state(engine, hub, user) -> tuple:
    """Volumes, group memberships and accounts, read from the engine and the hub's database
    (the REST API's full user models of the worker's hundreds of users, twice per example, were
    most of these tests' time)."""
    volumes = engine.volume_names(user.name)
    groups = hub.sql("hub", "SELECT groups.name, users.name FROM groups LEFT JOIN user_group_map "
                            "ON user_group_map.group_id = groups.id LEFT JOIN users ON users.id "
                            "= user_group_map.user_id ORDER BY groups.name, users.name")
    users = hub.sql("hub", "SELECT name FROM users ORDER BY name")
    return volumes, groups, users


@SETTINGS
@given(volumes=st.lists(text, max_size=6), confirm=text)
def test_volume_reset_form(target, engine, hub, volumes, confirm):
    before = state(engine, hub, target)
    r = target.post(f"portal/users/{target.name}/volumes/reset",
                    {"volume": volumes, "confirm": confirm})
    assert r.status_code < 500, r.text
    keys = {"home", "workspace", "cache"}
    valid = volumes and all(v.strip() in keys for v in volumes) and confirm == "yes"
    if not valid:
        assert r.status_code == 400
        assert state(engine, hub, target) == before


@SETTINGS
@given(body=json_values | text.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_volume_reset_json(target, engine, hub, body):
    before = state(engine, hub, target)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = target.s.post(target.url(f"portal/api/users/{target.name}/volumes/reset"), data=data,
                      headers={"X-XSRFToken": target.xsrf}, timeout=30)
    assert r.status_code < 500, r.text
    if r.status_code != 200:
        assert r.status_code == 400 and "message" in r.json()
        assert state(engine, hub, target) == before


@SETTINGS
@given(username=text, password=text)
def test_create_account_form(admin, engine, hub, target, username, password):
    before = state(engine, hub, target)
    r = admin.post("portal/admin/users", {"username": username, "password": password})
    assert r.status_code < 500, r.text
    if r.status_code != 200:
        assert r.status_code in (400, 409)
        assert state(engine, hub, target) == before


@SETTINGS
@given(username=text, group=st.sampled_from(["docker-sock", "docker-privileged"]) | text,
       action=st.sampled_from(["add", "remove"]))
def test_group_membership_form(admin, engine, hub, target, username, group, action):
    before = state(engine, hub, target)
    r = admin.post(f"portal/admin/groups/{quote(group, safe='')}/{action}",
                   {"username": username})
    assert r.status_code < 500, r.text
    if r.status_code != 200:
        assert r.status_code in (400, 404)
        assert state(engine, hub, target) == before


@SETTINGS
@given(query=text)
def test_user_search(admin, query):
    r = admin.get("portal/admin/user-search", params={"username": query})
    assert r.status_code == 200


@SETTINGS
@given(name=text.filter(lambda s: s not in ("", ".", "..")), action=st.sampled_from(
    ["card", "volumes", "restart-confirm"]))
def test_arbitrary_user_names_in_paths(target, name, action):
    r = target.get(f"portal/users/{quote(name, safe='')}/{action}")
    assert r.status_code in (200, 404), r.status_code


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_raw_bytes_to_every_json_endpoint(target, raw):
    for path in ("server/restart", "server/stop", "volumes/reset"):
        r = target.s.post(target.url(f"portal/api/users/{target.name}/{path}"), data=raw,
                          headers={"X-XSRFToken": target.xsrf}, timeout=30)
        assert r.status_code in (200, 202, 400, 409), (path, r.status_code, r.text[:200])


def test_duplicate_and_missing_fields(target, engine, hub):
    before = state(engine, hub, target)
    r = target.post(f"portal/users/{target.name}/volumes/reset",
                    {"volume": ["home", "home"], "confirm": ["no", "yes"]})
    assert r.status_code == 400  # two answers are no consent, whatever the last one says
    r = target.post(f"portal/users/{target.name}/volumes/reset", {})
    assert r.status_code == 400
    r = requests.post(target.url(f"portal/api/users/{target.name}/volumes/reset"),
                      headers={"Authorization": f"token {hub.token}"},
                      data='{"volumes": ["home"], "volumes": ["cache"]}', timeout=30)
    assert r.status_code == 400  # no confirm
    assert state(engine, hub, target) == before
