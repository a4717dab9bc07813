"""Named servers in process (issue 25): the maximum per group and JupyterHub 6's name rule on
the hub's REST API, each server its own container and workspace volume (home and cache the
user's), a name that cannot take another user's, and deleting one server or the whole account.
Two real labs side by side are on the real engine (tests/integration/test_named_servers.py)."""

from __future__ import annotations

import html
import re
import threading
import time

from tests.support.clients import PASSWORD
from tests.support.insights import runtime_of
from tests.support.limits import events, make_group


def set_servers(hub, group: str, maximum: object) -> None:
    r = hub.api("PUT", f"../portal/api/limits/groups/{group}", json={"named_servers": maximum})
    assert r.status_code == 200, r.text


def servers_of(hub, user: str) -> dict:
    """The user's server records, stopped ones too."""
    r = hub.api("GET", f"users/{user}?include_stopped_servers=1")
    assert r.status_code == 200, r.text
    return r.json()["servers"]


def started(hub, engine, path: str, container: str) -> dict:
    """Start through the REST API; the lab answers (the `answering_labs` fixture), so the start
    completes and the container runs."""
    r = hub.api("POST", path, json={})
    assert r.status_code == 201, f"{path}: {r.status_code} {r.text}"
    found = engine.container_records[container]
    assert found["State"]["Running"], found["State"]
    return found


def start(hub, path: str) -> threading.Thread:
    """POST a start from a thread (several at once)."""
    def post() -> None:
        status = hub.api("POST", path, json={}).status_code
        assert status < 500, f"{path}: {status}"

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


def wait_for_container(hub, engine, name: str, bound: float = 10.0) -> dict:
    hub.wait_for(lambda: name in engine.container_records, timeout=bound,
                 what=f"the container {name}")
    return engine.container_records[name]


def stop_all(hub, engine, user: str) -> None:
    """Stop every server of `user` through the REST API and wait until none runs."""
    for name, server in servers_of(hub, user).items():
        if server["ready"] or server["pending"]:
            path = f"users/{user}/servers/{name}" if name else f"users/{user}/server"
            assert hub.api("DELETE", path).status_code in (202, 204)

    def stopped() -> bool:
        servers = servers_of(hub, user).values()
        own = [c for n, c in engine.container_records.items()
               if n == f"jupyterlab-{user}" or n.startswith(f"jupyterlab-{user}--")]
        return (not any(s["pending"] or s["ready"] for s in servers)
                and not any(c["State"]["Running"] for c in own))

    hub.wait_for(stopped, timeout=30, what=f"{user}'s servers stopped")


def mounted(container: dict) -> dict[str, str]:
    """Volume name -> mount path of a fake-engine container."""
    return {bind.split(":")[0]: bind.split(":")[1]
            for bind in container["HostConfig"].get("Binds") or []}


def test_the_maximum_and_the_name_rule_on_the_hubs_rest_api(hub, make_user, engine,
                                                               answering_labs):
    user = make_user("nmrest")
    name = user.name
    # The default maximum (NAMED_SERVERS_MAX=0): the default server only.
    r = hub.api("POST", f"users/{name}/servers/lab", json={})
    assert r.status_code == 409 and "may have no named servers" in r.json()["message"], r.text
    assert "lab" not in servers_of(hub, name)
    make_group(hub, "nm-two", name)
    set_servers(hub, "nm-two", 2)
    for bad in ("Lab", "lab_1", "-lab", "lab-", "la--b", "x" * 31, "1lab", "läb"):
        r = hub.api("POST", f"users/{name}/servers/{bad}", json={})
        assert r.status_code == 400, (bad, r.text)
        assert "is not a valid server name" in r.json()["message"], r.text
    r = hub.api("PUT", f"users/{name}/servers/Bad", json={})  # 6.x: create without starting
    assert r.status_code in (400, 405), r.text
    for server in ("lab-1", "gpu"):
        r = hub.api("POST", f"users/{name}/servers/{server}", json={})
        assert r.status_code == 201, r.text
    r = hub.api("POST", f"users/{name}/servers/third", json={})
    assert r.status_code == 409 and "the maximum of 2" in r.json()["message"], r.text
    assert set(servers_of(hub, name)) - {""} == {"lab-1", "gpu"}  # "": the default one
    # A group's higher maximum wins over a lower one; "default" returns to NAMED_SERVERS_MAX.
    make_group(hub, "nm-one", name)
    set_servers(hub, "nm-one", 1)
    assert hub.api("GET", "../portal/api/limits").json()["default"]["named_servers"] == 0
    set_servers(hub, "nm-two", "default")
    r = hub.api("POST", f"users/{name}/servers/third", json={})
    assert r.status_code == 409 and "the maximum of 1" in r.json()["message"], r.text
    # Renaming (6.x) would leave the container's and the workspace's names behind.
    r = hub.api("PATCH", f"users/{name}/servers/gpu", json={"name": "gpu-2"})
    assert r.status_code in (400, 405), r.text
    for server in ("lab-1", "gpu"):
        hub.api("DELETE", f"users/{name}/servers/{server}")
    set_servers(hub, "nm-one", "default")


def test_a_named_server_past_a_lowered_maximum_does_not_start(hub, make_user, engine,
                                                              answering_labs):
    user = make_user("nmlower")
    make_group(hub, "nm-lower", user.name)
    set_servers(hub, "nm-lower", 2)
    for server in ("first", "second"):
        started(hub, engine, f"users/{user.name}/servers/{server}",
                f"jupyterlab-{user.name}--{server}")
    stop_all(hub, engine, user.name)
    set_servers(hub, "nm-lower", 1)
    started(hub, engine, f"users/{user.name}/servers/first", f"jupyterlab-{user.name}--first")
    # The spawner itself refuses the newer one, whichever path asked.
    r = hub.api("POST", f"users/{user.name}/servers/second", json={})
    assert r.status_code >= 400 or "second" in servers_of(hub, user.name), r.text
    hub.wait_for(lambda: "beyond the maximum of 1" in hub.log_path.read_text(),
                 what="the spawner's refusal in the hub's log")
    assert f"jupyterlab-{user.name}--second" not in engine.container_records


def test_each_server_is_its_own_container_with_its_own_workspace(hub, admin, make_user, engine,
                                                                answering_labs):
    """bob's server x and a user called bob-x: distinct containers and volumes, no collision;
    the group's CPU and memory limits apply to the named server as to the default one; while
    both run, broadcasts, usage and idle culling treat each on its own."""
    bob = make_user("nmbob")
    bob_x = f"{bob.name}-x"  # escaped: <bob>-2dx; bob's server x: <bob>--x
    r = admin.post("portal/admin/users", {"username": bob_x, "password": PASSWORD})
    assert r.status_code == 200, r.text
    make_group(hub, "nm-collide", bob.name)
    r = hub.api("PUT", "../portal/api/limits/groups/nm-collide",
                json={"named_servers": 1, "memory": "256M", "cpus": "0.5"})
    assert r.status_code == 200, r.text
    # All three at once (JupyterHub gave bob's x and bob-x's default one OAuth client: the
    # second start failed with a 500 after rewriting the first's client).
    threads = [start(hub, f"users/{bob.name}/server"), start(hub, f"users/{bob.name}/servers/x"),
               start(hub, f"users/{bob_x}/server")]
    default = wait_for_container(hub, engine, f"jupyterlab-{bob.name}")
    named = wait_for_container(hub, engine, f"jupyterlab-{bob.name}--x")
    other = wait_for_container(hub, engine, f"jupyterlab-{bob.name}-2dx")
    for thread in threads:
        thread.join(30)
    clients = {e["Config"]["Env"]["JUPYTERHUB_CLIENT_ID"] for e in (default, named, other)}
    assert len(clients) == 3, clients
    assert mounted(named) == {
        f"jupyterlab-{bob.name}_home": "/home",
        f"jupyterlab-{bob.name}--x_workspace": "/home/lab/workspace",
        f"jupyterlab-{bob.name}_cache": "/home/lab/.cache",
        "jupyterhub_shared": "/mnt/shared",
    }
    assert mounted(default)[f"jupyterlab-{bob.name}_workspace"] == "/home/lab/workspace"
    assert mounted(default)[f"jupyterlab-{bob.name}_home"] == "/home"
    assert set(mounted(other)).isdisjoint(set(mounted(named)) - {"jupyterhub_shared"})
    assert set(mounted(other)).isdisjoint(set(mounted(default)) - {"jupyterhub_shared"})
    for lab in (default, named):
        assert lab["HostConfig"]["Memory"] == 256 * 1024**2
        assert lab["HostConfig"]["NanoCpus"] == 5 * 10**8
    assert other["HostConfig"]["Memory"] != 256 * 1024**2  # not in the group
    # Each server's start log is its own container's output (owner and admins only).
    engine.print_output(f"jupyterlab-{bob.name}--x", b"x is starting <script>")
    engine.print_output(f"jupyterlab-{bob.name}", b"the default one")
    log = bob.get(f"portal/users/{bob.name}/servers/x/log")
    assert log.status_code == 200 and "x is starting &lt;script&gt;" in log.text, log.text
    assert "the default one" in admin.get(f"portal/users/{bob.name}/log").text
    assert bob.get(f"portal/users/{bob.name}/servers/nope/log").status_code == 404
    assert make_user("nmnosy").get(f"portal/users/{bob.name}/servers/x/log").status_code == 404
    each_server_on_its_own(hub, bob, admin)

    # Deleting bob's stopped server x removes its own workspace only.
    stop_all(hub, engine, bob.name)
    r = hub.api("DELETE", f"users/{bob.name}/servers/x", json={"remove": True})
    assert r.status_code in (202, 204), r.text
    hub.wait_for(lambda: "x" not in servers_of(hub, bob.name), what="the server's removal")
    hub.wait_for(lambda: f"jupyterlab-{bob.name}--x_workspace" not in engine.volume_names(),
                 what="its workspace's removal")
    left = set(engine.volume_names(bob.name))
    assert {f"jupyterlab-{bob.name}_home", f"jupyterlab-{bob.name}_workspace",
            f"jupyterlab-{bob.name}_cache"} <= left
    assert f"jupyterlab-{bob.name}-2dx_workspace" in left  # bob-x's volumes: untouched
    deleted = events(hub, "server deleted", bob.name)
    assert deleted and "'x'" in deleted[-1][2] and deleted[-1][3], deleted


def test_deleting_the_account_removes_its_named_servers_volumes(hub, make_user, engine,
                                                                answering_labs):
    user = make_user("nmgone")
    make_group(hub, "nm-gone", user.name)
    set_servers(hub, "nm-gone", 1)
    started(hub, engine, f"users/{user.name}/servers/tmp", f"jupyterlab-{user.name}--tmp")
    started(hub, engine, f"users/{user.name}/server", f"jupyterlab-{user.name}")
    stop_all(hub, engine, user.name)
    assert f"jupyterlab-{user.name}--tmp_workspace" in engine.volume_names(user.name)
    r = hub.api("DELETE", f"users/{user.name}")
    assert r.status_code == 204, r.text
    assert engine.volume_names(user.name) == []


def test_the_portal_adds_starts_and_deletes_named_servers(hub, admin, make_user, engine,
                                                         answering_labs):
    user, other = make_user("nmportal"), make_user("nmother")
    name = user.name
    page = user.get("portal")
    assert page.status_code == 200 and 'id="add-server"' not in page.text  # maximum 0
    assert ">My server</a>" in page.text
    r = user.post(f"portal/users/{name}/servers", {"name": "lab"})
    assert r.status_code == 409 and "only the default one" in html.unescape(r.text)
    make_group(hub, "nm-portal", name)
    set_servers(hub, "nm-portal", 1)
    assert 'id="add-server"' in user.get("portal").text
    r = user.post(f"portal/users/{name}/servers", {"name": ""})
    assert r.status_code == 400 and "Name the new server" in r.text
    r = user.post(f"portal/users/{name}/servers", {"name": "Bad Name"})
    assert r.status_code == 400 and "not a valid server name" in html.unescape(r.text)
    r = user.post(f"portal/users/{name}/servers", {"name": "lab"})
    assert r.status_code == 200 and "Server lab added" in r.text, r.text
    assert 'data-server="lab"' in r.text and 'id="add-server-full"' in r.text
    assert 'data-added-server="lab"' in r.text  # the notice goes once it has started
    assert ">My servers</a>" in user.get("portal").text
    wait_for_container(hub, engine, f"jupyterlab-{name}--lab")
    # The admin's table counts it (the default server is stopped).
    table = admin.get(f"portal/admin/user-table?q={name}").text
    assert "1 server running" in table, table
    # Home and cache are in every server: no reset while one runs.
    reset = f"portal/users/{name}/volumes/reset"
    r = user.post(reset, {"volume": "home", "confirm": "yes"})
    assert r.status_code == 409 and "Stop your server 'lab'" in html.unescape(r.text), r.text
    r = user.post(f"portal/users/{name}/servers", {"name": "two"})
    assert r.status_code == 409 and "the maximum of 1" in html.unescape(r.text)
    check_the_json_api(hub, user, other, engine)
    # The admin's bulk stop reaches every server the hub runs for the user, a line and an
    # event each naming it; with none running, the default server's refusal says so.
    r = admin.post("portal/admin/bulk", {"action": "stop", "user": [name]})
    assert r.status_code == 200, r.text
    assert bulk_lines(r.text) == [("lab", "yes", f"{name} (server lab): stop requested"),
                                  ("two", "yes", f"{name} (server two): stop requested")]
    stopped = [d for _, _, d, ok in events(hub, "stop", name) if ok]
    assert sorted(stopped[-2:]) == ["requested (server 'lab')", "requested (server 'two')"]
    stop_all(hub, engine, name)
    r = admin.post("portal/admin/bulk", {"action": "restart", "user": [name]})
    assert bulk_lines(r.text) == [("", "no", f"{name}: Only a running server can be restarted; "
                                             "start it instead.")], r.text
    # The restart's dialog is a named server's too, aimed at its card.
    dialog = user.get(f"portal/users/{name}/servers/lab/restart-confirm")
    assert dialog.status_code == 200 and "Restart the server lab?" in dialog.text
    assert f'hx-target="#server-card-{name}--lab"' in dialog.text
    assert f'hx-post="/ds%20hub/hub/portal/users/{name}/servers/lab/restart"' in dialog.text
    assert user.get(f"portal/users/{name}/servers/nope/restart-confirm").status_code == 404
    assert other.get(f"portal/users/{name}/servers/lab/restart-confirm").status_code == 404
    # Its card and actions have their own URLs; the default server's keep theirs.
    card = user.get(f"portal/users/{name}/servers/lab/card")
    assert card.status_code == 200 and 'data-server="lab"' in card.text
    assert f'id="server-card-{name}--lab"' in card.text
    assert user.get(f"portal/users/{name}/card").status_code == 200
    assert other.post(f"portal/users/{name}/servers/lab/stop", {}).status_code in (403, 404)
    assert user.get(f"portal/users/{name}/servers/nope/card").status_code == 404
    stop_all(hub, engine, name)
    # Its workspace is one of the user's volumes, reset like the others.
    assert 'value="lab/workspace"' in user.get(f"portal/users/{name}/volumes").text
    r = user.post(reset, {"volume": "lab/workspace", "confirm": "yes"})
    assert r.status_code == 200, r.text
    assert f"jupyterlab-{name}--lab_workspace" not in engine.volume_names()
    # The JSON API deletes a stopped one only when told to confirm.
    r = api(user, "DELETE", "servers/two")
    assert r.status_code == 400 and '"confirm": true' in r.json()["message"], r.text
    assert api(user, "DELETE", "servers/two", {"confirm": True}).status_code == 204
    assert "two" not in servers_of(hub, name)
    assert f"jupyterlab-{name}--two_workspace" not in engine.volume_names()
    assert api(user, "DELETE", "servers/two", {"confirm": True}).status_code == 404
    r = user.post(f"portal/users/{name}/servers/lab/delete", {})
    assert r.status_code == 400 and "Confirm deleting lab" in r.text
    r = user.post(f"portal/users/{name}/servers/lab/delete", {"confirm": "yes"})
    assert r.status_code == 200 and "Server lab deleted" in r.text, r.text
    assert 'data-server="lab"' not in r.text and 'id="add-server"' in r.text
    assert f"jupyterlab-{name}--lab_workspace" not in engine.volume_names()
    assert f"jupyterlab-{name}_home" in engine.volume_names()
    assert "lab" not in servers_of(hub, name)
    details = [detail for _, _, detail, _ in events(hub, "start", name)]
    assert any("(server 'lab')" in d for d in details), details
    assert events(hub, "server added", name) and events(hub, "server deleted", name)


def api(portal, method: str, path: str, body: dict | None = None):
    """The portal's JSON API on `portal`'s own servers, with its session (and XSRF token)."""
    return portal.s.request(method, portal.url(f"portal/api/users/{portal.name}/{path}"),
                            json=body, headers={"X-XSRFToken": portal.xsrf}, timeout=30)


def bulk_lines(answer: str) -> list[tuple[str, str, str]]:
    """(server, ok, words) of each line of a bulk action's answer."""
    return [(server, ok, words) for ok, server, words in re.findall(
        r'data-ok="(\w+)" data-server="(\w*)">([^<]*)</li>', answer)]


def state_of(portal, server: str) -> str:
    r = api(portal, "GET", f"servers/{server}")
    assert r.status_code == 200, r.text
    return r.json()["state"]


def check_the_json_api(hub, user, other, engine) -> None:
    """The JSON API on named servers, beside the portal's running "lab": the list, one server,
    a start adding one (checked like the form), refusals with sentences, the same scopes as
    the portal's pages."""
    name = user.name
    hub.wait_for(lambda: state_of(user, "lab") == "running", what="lab running")
    listing = api(user, "GET", "servers").json()
    assert listing["named_servers_max"] == 1
    assert [(s["server"], s["state"], s["environment"]) for s in listing["servers"]] == [
        ("", "stopped", None), ("lab", "running", None)]
    for body, status, words in [({}, 409, "the maximum of 1"),  # past the maximum
                                ({"environment": 3}, 400, "environment"),
                                ({"environment": "nope"}, 400, "nope")]:
        r = api(user, "POST", "servers/two/start", body)
        assert (r.status_code, words in r.json()["message"]) == (status, True), r.text
    r = api(user, "POST", "servers/Bad_Name/start")
    assert r.status_code == 400 and "not a valid server name" in r.json()["message"], r.text
    assert set(servers_of(hub, name)) == {"", "lab"}  # nothing was created
    for method, path, body in [("GET", "servers/nope", None), ("POST", "servers/nope/stop", {}),
                               ("POST", "servers/nope/recreate", {"environment": "x"}),
                               ("DELETE", "servers/nope", {"confirm": True})]:
        r = api(user, method, path, body)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["message"] == f"{name} has no server named 'nope'.", r.text
    r = api(user, "POST", "servers/lab/start")
    assert r.status_code == 409 and "already running" in r.json()["message"], r.text
    r = api(user, "DELETE", "servers/lab", {"confirm": True})
    assert r.status_code == 409 and "Stop lab before deleting it" in r.json()["message"]
    r = api(user, "POST", "servers/lab/stop", {"environment": "x"})
    assert r.status_code == 400 and "stop takes no user_options" in r.json()["message"]
    # Someone else's servers: the hub's own refusal, nothing changed.
    for method, path in [("GET", f"users/{name}/servers"), ("GET", f"users/{name}/servers/lab"),
                         ("POST", f"users/{name}/servers/lab/stop"),
                         ("POST", f"users/{name}/servers/x/start"),
                         ("DELETE", f"users/{name}/servers/lab")]:
        r = other.s.request(method, other.url(f"portal/api/{path}"), json={},
                            headers={"X-XSRFToken": other.xsrf}, timeout=30)
        assert r.status_code in (403, 404), (path, r.text)
    # A start of a new name adds it (within a raised maximum), like the hub's REST POST.
    set_servers(hub, "nm-portal", 2)
    r = api(user, "POST", "servers/two/start", {"user_options": None})
    assert r.status_code == 202, r.text
    assert r.json()["server"] == "two" and r.json()["state"] in ("starting", "running")
    hub.wait_for(lambda: state_of(user, "two") == "running", what="two running")
    assert engine.container_records[f"jupyterlab-{name}--two"]["State"]["Running"]
    one = hub.api("GET", f"../portal/api/users/{name}/servers/two")  # an admin's token
    assert one.status_code == 200 and one.json()["lab_url"].endswith(f"/user/{name}/two/")
    added = [d for _, _, d, _ in events(hub, "server added", name)]
    assert "server 'two'" in added[-1], added
    set_servers(hub, "nm-portal", 1)


def test_the_hubs_spawn_page_creates_no_server_past_the_maximum(hub, make_user, admin):
    """JupyterHub 5.5's /hub/spawn/<user>/<server> made the server's record before anything was
    checked (an empty server past the maximum, or with a bad name); both lines refuse it."""
    user = make_user("nmspawn")
    for path in (f"spawn/{user.name}/extra", f"spawn/{user.name}/Bad_Name"):
        posted = user.s.post(user.url(path), data={"_xsrf": user.xsrf}, timeout=30)
        for r in (user.get(path, htmx=False), posted):
            assert r.status_code in (400, 409), (path, r.status_code, r.text[:300])
        assert set(servers_of(hub, user.name)) <= {""}, path
    r = user.get(f"spawn/{user.name}/extra", htmx=False)
    assert "may have no named servers" in html.unescape(r.text), r.text[:2000]
    # Someone else's: the hub's own refusal, which says nothing about the maximum.
    other = make_user("nmspawno")
    r = other.get(f"spawn/{user.name}/extra", htmx=False)
    assert r.status_code in (403, 404) and "named servers" not in r.text
    assert set(servers_of(hub, user.name)) <= {""}


def each_server_on_its_own(hub, user, admin) -> None:
    """`user`'s default server and x run: a broadcast targets each; each is sampled under its
    own name, and the admin's user table adds both up on the user's line; a culling pass (its
    clock past the idle time) stops x while the default server, kept running from its card,
    runs on; x's "Keep running" then refuses with a sentence."""
    name = user.name
    r = hub.api("POST", "../portal/api/broadcasts", json={
        "message": "Both servers", "recipients": {"users": [name]}})
    assert r.status_code == 200, r.text
    assert sorted(x["server"] for x in r.json()["results"]) == ["", "x"], r.text
    hub.wait_for(lambda: "x" in user.get(f"portal/api/users/{name}/usage",
                                         htmx=False).json()["servers"],
                 timeout=20, what="x sampled under its own name")
    assert 'class="server-usage' in user.get(f"portal/users/{name}/servers/x/card").text
    hub.wait_for(lambda: user.get(f"portal/api/users/{name}/usage",
                                  htmx=False).json()["usage"] is not None,
                 timeout=20, what="the default server sampled")
    table = admin.get(f"portal/admin/user-table?q={name}").text
    row = table[table.index(f'data-user="{name}"'):]
    row = row[:row.index("</tr>")]
    # The fake engine's labs use 50 MiB each, under the group's 256M: both servers together.
    assert 'title="added up over its 2 running servers"' in row, row
    assert re.search(r'class="usage-memory">100(\.0)? MiB of 512(\.0)? MiB', row), row
    # A misspelt field is refused with the fields' names, and nothing is saved.
    r = hub.api("PUT", "../portal/api/culling", json={"idle_after": "2h", "exempt": ["x"]})
    assert r.status_code == 400 and "Unknown field 'exempt'" in r.text, r.text
    assert "exempt_groups" in r.text
    assert hub.api("GET", "../portal/api/culling").json()["idle_after_seconds"] == 0
    r = hub.api("PUT", "../portal/api/culling", json={"idle_after": "2h", "warning": "10m"})
    assert r.status_code == 200, r.text
    try:
        r = user.post(f"portal/users/{name}/keep-running")  # the default server's card
        assert r.status_code == 200, r.text
        culler = runtime_of(hub).culler
        decided = hub.run(culler.pass_once(hub.app, now=time.time() + 2 * 3600 + 60))
        assert f"{name}/x" in decided.cull and name not in decided.cull, decided
        hub.wait_for(lambda: not servers_of(hub, name)["x"]["ready"], what="x stopped")
        assert servers_of(hub, name)[""]["ready"]
        stops = [d for _, _, d, ok in events(hub, "cull", name) if d.startswith("stopped")]
        assert len(stops) == 1 and stops[0].endswith("(server 'x')"), stops
        r = user.post(f"portal/users/{name}/servers/x/keep-running")
        assert r.status_code == 409 and "The server is not running." in html.unescape(r.text)
        r = user.post(f"portal/users/{name}/servers/none/keep-running")
        assert r.status_code == 404 and "has no server named 'none'" in html.unescape(r.text)
    finally:
        hub.api("PUT", "../portal/api/culling", json={"idle_after": "0"})
