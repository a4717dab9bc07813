"""Environments in process (issue 25): admins add, change and remove them (audited, admins
only), bad input gets a readable 4xx and changes nothing, and a start's choice through the
portal's JSON API and the hub's REST API is checked before anything starts, then followed by the
spawner (image, capped limits, variables). A lab that answers, and switching, are on the real
engine (tests/integration/test_environments.py)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator

import pytest

from tests.support.limits import events, make_group, set_limits

NOEXT = "dshub-lab-noext:latest"
GIB = 1024**3


@pytest.fixture
def environments(hub, engine) -> Iterator[None]:
    """The second real image on the fake engine; every environment gone afterwards (the other
    tests of this hub start from the configured image, as without environments)."""
    engine.image_table.add(NOEXT)
    yield
    for env in api_environments(hub):
        assert hub.api("DELETE", f"../portal/api/environments/{env['name']}").status_code == 200


def api_environments(hub) -> list[dict]:
    r = hub.api("GET", "../portal/api/environments")
    assert r.status_code == 200, r.text
    return r.json()["environments"]


def put(hub, name: str, /, **body):
    return hub.api("PUT", f"../portal/api/environments/{name}", json=body)


def container_of(hub, engine, user: str, bound: float = 10.0) -> dict:
    """The user's lab container as the engine holds it, once the spawner has created it."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        found = engine.container_records.get(f"jupyterlab-{user}")
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no container for {user} within {bound} s:\n{hub.log_tail(60)}")


def test_admins_add_change_and_remove_environments_audited(hub, admin, make_user, environments):
    r = admin.post("portal/admin/environments", {
        "name": "py-basic", "description": "Python for the course", "image": "dshub-lab",
        "memory": "2G", "cpus": "1", "variables": "COURSE=intro\nLEVEL=1", "groups": ""})
    assert r.status_code == 200, r.text
    assert "py-basic saved" in r.text and 'data-environment="py-basic"' in r.text
    assert "dshub-lab:latest" in r.text  # Docker's own default tag, made explicit
    # "Change" fills the form with its values, variables included.
    form = html.unescape(admin.get("portal/admin/environments?edit=py-basic").text)
    assert 'value="Python for the course"' in form and f'value="{2 * GIB}"' in form
    assert "COURSE=intro\nLEVEL=1\n</textarea>" in form and 'value="1"' in form
    r = admin.post("portal/admin/environments", {
        "name": "py-basic", "description": "Python", "image": NOEXT, "memory": "none",
        "cpus": "", "variables": "", "groups": ""})
    assert r.status_code == 200, r.text
    [env] = api_environments(hub)
    assert env == {"name": "py-basic", "description": "Python", "image": NOEXT, "memory": None,
                   "cpus": None, "gpu": False, "variables": {}, "groups": []}
    # The JSON API: a GET's entry is a PUT's body.
    r = put(hub, "py-basic", **{**env, "memory": "1G", "variables": {"A": "1"}})
    assert r.status_code == 200 and r.json()["memory"] == GIB, r.text
    assert admin.get("portal/admin/environments", htmx=False).status_code == 200  # the page
    r = admin.post("portal/admin/environments", {"remove": "py-basic"})
    assert r.status_code == 200 and "py-basic removed" in r.text
    assert api_environments(hub) == []
    details = [d for _, target, d, ok in events(hub, "environment", "py-basic") if ok]
    assert [d.split(":")[0] for d in details[-4:]] == ["added", "changed", "changed", "removed"]
    assert "image dshub-lab:latest, 2 GiB, 1 CPUs, GPU no, COURSE, LEVEL, for everyone" in (
        details[-4])
    # The audit links such an event to the Environments section, not to a user of that name.
    audit_page = admin.get("portal/admin/audit?kind=environment").text
    assert 'admin/environments" data-links="section">py-basic</a>' in audit_page, audit_page
    assert "users?q=py-basic" not in audit_page
    # Admins only: a user may neither read nor change them.
    user = make_user("env-nosy")
    assert user.post("portal/admin/environments", {"name": "x", "image": "dshub-lab"}
                     ).status_code == 403
    r = user.s.get(user.url("portal/api/environments"), timeout=30)
    assert r.status_code == 403
    assert api_environments(hub) == []


def test_bad_environments_get_a_readable_4xx_and_change_nothing(hub, admin, environments):
    assert put(hub, "kept", image="dshub-lab:latest").status_code == 200
    before, logged = api_environments(hub), len(events(hub, "environment"))
    good = {"image": "dshub-lab:latest"}
    cases = [
        ("Bad Name", good, 400, "is not an environment name"),
        ("img", {"image": "no-such-image:1"}, 400,
         "The image no-such-image:1 is not on this hub's Docker engine. Build it there "
         "(scripts/build-images.sh builds dshub-lab and dshub-lab-noext) or load it"),
        ("img", {"image": "http://x/y"}, 400, "is not a Docker image name"),
        ("mem", {**good, "memory": "lots"}, 400, "is not a size"),
        ("cpu", {**good, "cpus": "999"}, 400, "this host's CPU count"),
        ("var", {**good, "variables": "JUPYTERHUB_API_TOKEN=x"}, 400, "set by the hub"),
        ("var", {**good, "variables": "no equals sign"}, 400, "has no '='"),
        ("var", {**good, "variables": "1BAD=x"}, 400, "is not a variable name"),
        ("grp", {**good, "groups": "no-such-group"}, 400, "There is no group named"),
        ("gpu", {**good, "gpu": "1"}, 400, "This hub gives labs no GPU"),
    ]
    for name, fields, status, words in cases:
        r = admin.post("portal/admin/environments", {"name": name, **fields})
        assert r.status_code == status and words in html.unescape(r.text), (name, r.text)
        r = put(hub, name, **fields)
        assert r.status_code == status and words in r.json()["message"], (name, r.text)
    for body, words in (({"name": "other", **good}, "rename by adding"),
                        ({**good, "colour": "red"}, "Unknown fields: colour"),
                        ({**good, "variables": ["A=1"]}, "must be an object")):
        r = put(hub, "kept", **body)
        assert r.status_code == 400 and words in r.json()["message"], r.text
    r = hub.api("PUT", "../portal/api/environments/kept", data="[1")
    assert r.status_code == 400
    r = hub.api("DELETE", "../portal/api/environments/nothing-here")
    assert r.status_code == 404 and "no environment named" in r.json()["message"]
    assert api_environments(hub) == before
    assert len(events(hub, "environment")) == logged


def test_the_choice_is_checked_then_followed_by_the_spawner(hub, admin, make_user, engine,
                                                           environments, answering_labs):
    make_group(hub, "env-team")
    member, outsider = make_user("envmember"), make_user("envoutsider")
    make_group(hub, "env-team", member.name)
    assert set_limits(admin, "env-team", "512M", "none").status_code == 200
    assert put(hub, "team-lab", image="dshub-lab", memory="1G", cpus="1",
               variables={"COURSE": "env"}, groups=["env-team"]).status_code == 200
    assert put(hub, "noext", image=NOEXT).status_code == 200

    # The card offers what each may use, the first by name preselected (no last one yet).
    card = html.unescape(member.get(f"portal/users/{member.name}/card").text)
    assert re.findall(r'<option value="([^"]+)"( selected)?', card) == [
        ("noext", " selected"), ("team-lab", "")]
    card = outsider.get(f"portal/users/{outsider.name}/card").text
    assert 'value="team-lab"' not in card and 'hx-include="#server-card-' in card

    def json_start(user, body):
        return user.s.post(user.url(f"portal/api/users/{user.name}/server/start"), json=body,
                           headers={"X-XSRFToken": user.xsrf}, timeout=30)

    refusals = [
        ({"user_options": {"environment": "team-lab"}}, "You may not use 'team-lab'"),
        ({"user_options": {"environment": "nope"}}, "There is no environment named 'nope'"),
        ({"environment": "nope"}, "Environments you may use: noext."),
        ({"user_options": {"environment": 5}}, "must be named by a string"),
        ({"user_options": "noext"}, "user_options must be a JSON object"),
    ]
    for body, words in refusals:
        r = json_start(outsider, body)
        assert r.status_code == 400 and words in r.json()["message"], (body, r.text)
    r = outsider.s.post(outsider.url(f"portal/api/users/{outsider.name}/server/stop"),
                        json={"environment": "noext"}, headers={"X-XSRFToken": outsider.xsrf},
                        timeout=30)
    assert r.status_code == 400 and "takes no user_options" in r.json()["message"]
    # The hub's REST API: the body itself (both lines) or its "user_options" (6.x).
    for body in ({"environment": "team-lab"}, {"user_options": {"environment": "gone"}}):
        r = hub.api("POST", f"users/{outsider.name}/server", json=body)
        assert r.status_code == 400 and "nothing was started" in r.json()["message"], r.text
    # The portal's card form.
    r = outsider.post(f"portal/users/{outsider.name}/start", {"environment": "team-lab"})
    assert r.status_code == 400 and "You may not use" in html.unescape(r.text)
    assert f"jupyterlab-{outsider.name}" not in engine.container_records  # nothing started
    # The portal's refusals of a choice are audited (a malformed body is refused before that).
    refused = [d for _, _, d, ok in events(hub, "start", outsider.name) if not ok]
    assert len(refused) == 4 and "refused: You may not use" in refused[0]

    # Allowed: the environment's image, its defaults under the group's cap, its variables.
    r = json_start(member, {"user_options": {"environment": "team-lab"}})
    assert r.status_code == 202, r.text
    lab = container_of(hub, engine, member.name)
    assert lab["Config"]["Image"] == "dshub-lab:latest"
    assert lab["HostConfig"]["Memory"] == 512 * 1024**2  # the group's 512M caps its 1G
    assert lab["HostConfig"]["NanoCpus"] == 10**9
    assert lab["Config"]["Env"]["COURSE"] == "env"
    # Through the hub's REST API, the other image (the card's form works the same way).
    r = hub.api("POST", f"users/{outsider.name}/server", json={"environment": "noext"})
    assert r.status_code in (201, 202), r.text
    lab = container_of(hub, engine, outsider.name)
    assert lab["Config"]["Image"] == NOEXT and lab["HostConfig"]["Memory"] == 0
    assert "COURSE" not in lab["Config"]["Env"]
    # The admin's user table names each running server's environment.
    table = admin.get("portal/admin/user-table?q=envmember").text
    assert re.search(r'data-user="envmember\w*".*?row-environment[^>]*>team-lab<', table, re.S)
    # The spawner takes the environment itself: the hub never calls it an unhandled option.
    assert f"unhandled user_options for {member.name}" not in hub.log_path.read_text()
    switch_a_named_server_through_the_json_api(hub, member, engine)


def switch_a_named_server_through_the_json_api(hub, member, engine) -> None:
    """A named server started in one environment and switched to the other through the JSON
    API: a new container from the other image; the list says which one each server runs."""
    r = hub.api("PUT", "../portal/api/limits/groups/env-team", json={"named_servers": 1})
    assert r.status_code == 200, r.text

    def api(method: str, path: str, body: dict | None = None):
        return member.s.request(method, member.url(f"portal/api/users/{member.name}/{path}"),
                                json=body, headers={"X-XSRFToken": member.xsrf}, timeout=30)

    def running_in(environment: str) -> bool:
        server = api("GET", "servers/py").json()
        return (server["state"], server["environment"]) == ("running", environment)

    assert api("POST", "servers/py/start", {"environment": "noext"}).status_code == 202
    hub.wait_for(lambda: running_in("noext"), what="py running in noext")
    container = f"jupyterlab-{member.name}--py"
    assert engine.container_records[container]["Config"]["Image"] == NOEXT
    r = api("POST", "servers/py/recreate", {"user_options": {"environment": "team-lab"}})
    assert r.status_code == 202, r.text
    hub.wait_for(lambda: running_in("team-lab"), timeout=30, what="py switched to team-lab")
    assert engine.container_records[container]["Config"]["Image"] == "dshub-lab:latest"
    listing = api("GET", "servers").json()["servers"]
    assert [(s["server"], s["environment"]) for s in listing] == [("", "team-lab"),
                                                                 ("py", "team-lab")]
    switched = [d for _, _, d, ok in events(hub, "re-create", member.name) if ok]
    assert switched[-1] == "requested (server 'py')", switched


def test_jupyterhubs_start_page_offers_the_same_choice(hub, make_user, engine, environments):
    """/hub/spawn (JupyterHub's own start page) offers what the card offers; its choice is
    checked like any start's (a forbidden one is shown on the form, nothing starts)."""
    make_group(hub, "env-page")
    user = make_user("envspawnpage")
    assert put(hub, "noext", image=NOEXT, description="No <b>extension</b>").status_code == 200
    assert put(hub, "closed", image="dshub-lab", groups=["env-page"]).status_code == 200
    assert put(hub, "plain", image="dshub-lab").status_code == 200
    page = user.get("spawn")
    assert page.status_code == 200, page.text
    assert re.findall(r'<option value="([^"]+)"( selected)?', page.text) == [
        ("noext", " selected"), ("plain", "")]
    assert "noext: No &lt;b&gt;extension&lt;/b&gt;" in page.text  # escaped, not markup
    r = user.post("spawn", {"environment": "closed"})
    assert "You may not use" in html.unescape(r.text), hub.log_path.read_text()[-3000:]
    assert f"jupyterlab-{user.name}" not in engine.container_records
    r = user.post("spawn", {"environment": "plain"})
    assert r.status_code < 400, r.text[-2000:]
    assert container_of(hub, engine, user.name)["Config"]["Image"] == "dshub-lab:latest"
    # The next visit preselects the last choice, as the card does.
    hub.api("DELETE", f"users/{user.name}/server")
    assert wait_gone(engine, user.name)
    assert re.findall(r'<option value="([^"]+)"( selected)?', user.get("spawn").text) == [
        ("noext", ""), ("plain", " selected")]


def wait_gone(engine, user: str, bound: float = 10.0) -> bool:
    deadline = time.monotonic() + bound
    while f"jupyterlab-{user}" in engine.container_records:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
