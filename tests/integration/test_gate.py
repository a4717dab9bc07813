"""One gate for host power: a browser session that has not confirmed its password lately grants
nothing that reaches the host, whichever route it takes (portal/access/host_power.py).

The sessions here are signed in afresh and never confirm (the session fixture `admin` is in
sudo mode). The walk takes the routes from the running hub's own handler list
(tests/support/jupyterhub_test_config.py writes it), so a route a JupyterHub upgrade adds is
walked too; sign-ins come from loopback addresses of their own (127.0.0.x), so the throttle they
trip never slows the other tests' sign-ins down.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets

import pytest
import requests

from tests.support.clients import PASSWORD, Portal, session_from, signup, try_sign_in
from tests.support.hub import Hub

NEW_PASSWORD = "Gate-new-pw-2026!"
UNKNOWN_ROUTE = "not known to DS Hub's gate"
_addresses = (f"127.0.0.{n}" for n in itertools.count(40))
_names = itertools.count()


def signed_in(hub, name: str, address: str = "127.0.0.1", password: str = PASSWORD) -> Portal:
    """A fresh browser session of `name` (never in sudo mode), from `address`."""
    portal = Portal.__new__(Portal)
    portal.hub, portal.name, portal.s = hub, name, session_from(address)
    portal.s.get(hub.hub_url("login"), timeout=10)
    r = portal.s.post(hub.hub_url("login"), allow_redirects=False, timeout=30, data={
        "username": name, "password": password, "_xsrf": portal.xsrf})
    assert r.status_code == 302, f"sign-in of {name} from {address}: {r.status_code}"
    return portal


def rest(session: Portal, method: str, path: str, body=None) -> requests.Response:
    """The hub's REST API with the browser session's cookie and XSRF token (like its pages)."""
    return session.s.request(method, session.hub.hub_url(f"api/{path}"), json=body,
                             headers={"X-XSRFToken": session.xsrf}, timeout=30)


def form(session: Portal, path: str, data: dict) -> requests.Response:
    """A form POST to a hub page (NativeAuthenticator's pages), as the browser sends it."""
    return session.s.post(session.hub.hub_url(path), data={**data, "_xsrf": session.xsrf},
                          allow_redirects=False, timeout=30)


def can_sign_in(hub, name: str, password: str) -> bool:
    # From an address of its own: a wrong password here must not slow other sign-ins down.
    return try_sign_in(hub, name, password, address=next(_addresses)).status_code == 302


@pytest.fixture
def world(hub, admin, make_user):
    """A second admin (signed in, not confirmed), a plain victim, a member of docker-sock whose
    server has host power, someone to share with, and a hub-only member of docker-sock (a hub
    user without a password: creating "its account" would hand out its host power)."""
    n = next(_names)
    gate_admin = make_user(f"gateadmin{n}_")
    # Only an admin makes admins (the driver's token may not): the session admin, in sudo mode.
    r = rest(admin, "PATCH", f"users/{gate_admin.name}", {"admin": True})
    assert r.status_code == 200, r.text
    victim, powered, sharee = make_user("gatevictim"), make_user("gatepowered"), make_user("gsh")
    hub_only = f"gatehubonly{n}"
    assert hub.api("POST", f"users/{hub_only}").status_code == 201
    for name in (powered.name, hub_only):
        r = hub.api("POST", "groups/docker-sock/users", json={"users": [name]})
        assert r.status_code == 200, r.text
    powered.get("portal", htmx=False)  # its default server exists (shares name a server)
    yield {"admin": signed_in(hub, gate_admin.name, next(_addresses)),
           "admin_name": gate_admin.name,
           "victim": victim, "powered": powered, "sharee": sharee, "hub_only": hub_only}
    hub.api("DELETE", "groups/docker-sock/users", json={"users": [powered.name, hub_only]})
    rest(admin, "PATCH", f"users/{gate_admin.name}", {"admin": False})  # the next tests' view


def shares_of(hub, owner: str) -> list:
    return hub.sql("hub", "SELECT shares.id FROM shares JOIN spawners ON spawners.id = "
                   "shares.spawner_id JOIN users ON users.id = spawners.user_id "
                   "WHERE users.name = :n", n=owner)


def token_ids(hub, name: str) -> set[str]:
    r = hub.api("GET", f"users/{name}/tokens")
    return {t["id"] for t in r.json().get("api_tokens", [])} if r.status_code == 200 else set()


def snapshot(hub) -> dict[str, set]:
    """Everything through which host power could be handed out, read from the hub's database."""
    def rows(statement: str) -> set:
        return {row if len(row) > 1 else row[0] for row in hub.sql("hub", statement)}

    return {
        "members": rows("SELECT groups.name, users.name FROM user_group_map JOIN groups ON "
                        "groups.id = user_group_map.group_id JOIN users ON users.id = "
                        "user_group_map.user_id WHERE groups.name IN ('docker-sock', "
                        "'docker-privileged')"),
        "admins": rows("SELECT name FROM users WHERE admin"),
        "services": rows("SELECT name FROM services"),
        "tokens": rows("SELECT id, user_id FROM api_tokens"),
        "shares": rows("SELECT id FROM shares") | {("code", i) for i in
                                                   rows("SELECT id FROM share_codes")},
        "passwords": {(name, bytes(pw).hex()) for name, pw in hub.sql(
            "hub", "SELECT username, password FROM users_info WHERE is_authorized")},
    }


def grants(before: dict[str, set], after: dict[str, set]) -> dict[str, set]:
    """What `after` holds that `before` did not (taking something away grants nothing)."""
    return {key: after[key] - before[key] for key in after if after[key] - before[key]}


# --- the walk ---------------------------------------------------------------------------------

# The one route the walk leaves out (it is still known to the gate): it would stop the hub.
SKIPPED = {("POST", "jupyterhub.apihandlers.hub.ShutdownAPIHandler")}
# Walked last: they end or replace the walking session.
LAST = {("GET", "jupyterhub.handlers.login.LogoutHandler"),
        ("POST", "portal.auth.handlers.LoginHandler")}
GROUP = re.compile(r"\((?!\?:)(?:\?P<\w+>)?([^()]*)\)")


def fill(pattern: str, method: str, w) -> list[str]:
    """Concrete paths for a route pattern: each group gets a value that could hand out host power
    (the victim, docker-sock, the powered user's server), except where a request would start
    Docker work or delete something (there a name nobody has)."""
    path = pattern.rstrip("$")
    path = re.sub(r"\(\?:[^()]*(\([^()]*\))?[^()]*\)\?", "", path)  # optional tails
    path = re.sub(r"\((?:\?P<\w+>)?/\.\*\)\?", "", path).replace("/?", "/")
    harmless = method == "DELETE" or re.search(
        r"\b(server|servers|spawn|user|activity|start|stop|keep-running|volumes|log|card|"
        r"restart-confirm|usage|limits|properties|archived-volumes)\b", path)
    values = {"users": w["victim"].name, "groups": "docker-sock", "services": "gate-svc",
              "shares": w["powered"].name, "share-codes": w["powered"].name,
              "shared": w["powered"].name, "change-password": w["victim"].name,
              "tokens": "a1", "signups": w["hub_only"], "limits": "docker-sock"}
    paths = [""]
    rest_ = path
    while (m := GROUP.search(rest_)) is not None:
        before = rest_[:m.start()]
        segment = before.rstrip("/").rsplit("/", 1)[-1]
        inner = m.group(1)
        if re.fullmatch(r"[\w-]+(\|[\w-]+)+", inner):  # (add|remove): every alternative
            choices = inner.split("|")
        elif inner.startswith(("\\d", "[0-9]")):
            choices = ["404"]
        elif segment in values and not harmless:
            choices = [values[segment]]
        elif segment == "static" or inner == ".*":
            choices = ["nothing-here"]
        else:
            choices = ["nosuchuser"] if inner != "[^/]*" else [""]
        paths = [p + before + c for p in paths for c in choices]
        rest_ = rest_[m.end():]
    return [p + rest_ for p in paths
            if p.startswith("/") and "(" not in p + rest_ and ".*" not in p + rest_]


def bodies(pattern: str, w, token: str) -> list[tuple[str, object]]:
    if "/api/" in pattern:
        return [("json", {"admin": True, "api_token": token}),
                ("json", {"users": [w["victim"].name]}),
                ("json", {"usernames": [f"gatenew{secrets.token_hex(3)}"], "admin": True}),
                ("json", {"user": w["sharee"].name}),
                ("json", {"note": "from a session that never confirmed"})]
    return [("form", {"username": w["hub_only"], "password": NEW_PASSWORD,
                      "new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD,
                      "old_password": "not-the-old-password", "action": "group-add",
                      "group": "docker-sock", "user": w["victim"].name, "scope": "selected"}),
            ("form", {"username": w["victim"].name})]


def test_every_route_refuses_host_power_to_an_unconfirmed_session(hub, admin, world):
    """Items 1, 2 and 4 of "Trust III", and deny by default: every route the running hub
    serves, every method its handler has, bodies that would grant host power."""
    w, session = world, world["admin"]
    routes = json.loads((hub.data_dir / "routes.json").read_text())
    assert len(routes) > 60, "the hub's route list is missing or short"
    token = secrets.token_hex(16)
    granted, unknown = [], []
    before = snapshot(hub)
    steps = [(route, method) for route in routes for method in route["methods"]
             if (method, route["handler"]) not in SKIPPED]
    steps.sort(key=lambda step: (step[1], step[0]["handler"]) in LAST)
    for route, method in steps:
        for path in fill(route["pattern"], method, w):
            url = f"{hub.url.split('/', 3)[0]}//{hub.url.split('/', 3)[2]}{path}"
            tries = bodies(route["pattern"], w, token) if method in (
                "POST", "PUT", "PATCH") else [("none", None)]
            for kind, body in tries:
                headers = {"X-XSRFToken": session.xsrf, "Accept": "application/json"}
                data = {**body, "_xsrf": session.xsrf} if kind == "form" else None
                r = session.s.request(method, url, json=body if kind == "json" else None,
                                      data=data, headers=headers, allow_redirects=False,
                                      timeout=60)
                if UNKNOWN_ROUTE in r.text:
                    unknown.append(f"{method} {path}")
                after = snapshot(hub)
                if given := grants(before, after):
                    granted.append(f"{method} {path} {body} -> {r.status_code}: {given}")
                    undo(hub, admin, before, given)
                    after = snapshot(hub)
                before = after  # nothing was given, or it was taken back above
    assert granted == [], "host power without sudo mode:\n" + "\n".join(granted)
    assert unknown == [], "routes the gate does not know:\n" + "\n".join(unknown)


def undo(hub, admin: Portal, before: dict[str, set], given: dict[str, set]) -> None:
    """Take back what a route handed out, so the walk goes on from the same state."""
    for group, name in given.get("members", ()):
        hub.api("DELETE", f"groups/{group}/users", json={"users": [name]})
    for name in given.get("admins", ()):
        rest(admin, "PATCH", f"users/{name}", {"admin": False})
    for name in given.get("services", ()):
        rest(admin, "DELETE", f"services/{name}")
    for token_id, _user in given.get("tokens", ()):
        hub.sql("hub", "DELETE FROM api_tokens WHERE id = :i", i=token_id)
    for share in given.get("shares", ()):
        table, key = ("share_codes", share[1]) if isinstance(share, tuple) else ("shares", share)
        hub.sql("hub", f"DELETE FROM {table} WHERE id = :i", i=key)
    old = dict(before["passwords"])
    for name, _hashed in given.get("passwords", ()):
        if name in old:
            hub.sql("hub", "UPDATE users_info SET password = :p WHERE username = :n",
                    p=bytes.fromhex(old[name]), n=name)
        else:
            hub.sql("hub", "DELETE FROM users_info WHERE username = :n", n=name)


# --- each item, attacked on its own -------------------------------------------------------------

def test_1_an_admin_service_with_a_chosen_token_needs_sudo(hub, world):
    session, token = world["admin"], secrets.token_hex(16)
    r = rest(session, "POST", "services/gate-backdoor", {"admin": True, "api_token": token})
    assert r.status_code == 403, (r.status_code, r.text)
    assert "portal/api/sudo" in r.json()["message"]
    assert "gate-backdoor" not in snapshot(hub)["services"]
    stolen = requests.get(hub.hub_url("api/user"), timeout=10,
                          headers={"Authorization": f"token {token}"})
    assert stolen.status_code == 403
    # Confirmed, the same request is the admin's to make.
    assert session.confirm_sudo().status_code == 200
    r = rest(session, "POST", "services/gate-backdoor", {"api_token": token})
    assert r.status_code == 201, r.text
    rest(session, "DELETE", "services/gate-backdoor")


def test_2_setting_a_password_needs_sudo_or_the_old_one_and_is_audited(hub, world, admin):
    session, victim = world["admin"], world["victim"]
    for name in (victim.name, world["admin_name"]):
        r = form(session, f"change-password/{name}",
                 {"new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD})
        assert r.status_code == 403, (name, r.status_code)
        assert "confirm your password" in r.text
        assert not can_sign_in(hub, name, NEW_PASSWORD)
    # One's own password needs the old one, even in sudo mode.
    assert session.confirm_sudo().status_code == 200
    r = form(session, "change-password", {"old_password": "not-the-old-one",
                                          "new_password": NEW_PASSWORD,
                                          "new_password_confirmation": NEW_PASSWORD})
    assert "incorrect" in r.text and not can_sign_in(hub, world["admin_name"], NEW_PASSWORD)
    # In sudo mode the admin sets the victim's password: audited, and the victim's sessions end.
    assert victim.get("portal", htmx=False).status_code == 200
    r = form(session, f"change-password/{victim.name}",
             {"new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD})
    assert r.status_code == 200 and "has been changed" in r.text, r.text[-500:]
    assert can_sign_in(hub, victim.name, NEW_PASSWORD)
    gone = victim.s.get(victim.url("portal"), allow_redirects=False, timeout=10)
    assert gone.status_code == 302 and "login" in gone.headers["Location"]
    # The owner changes their own with the old one: audited; their other sessions end.
    own = signed_in(hub, victim.name, password=NEW_PASSWORD)
    other = signed_in(hub, victim.name, password=NEW_PASSWORD)
    r = form(own, "change-password", {"old_password": NEW_PASSWORD, "new_password": PASSWORD,
                                      "new_password_confirmation": PASSWORD})
    assert "changed successfully" in r.text, r.text[-500:]
    assert own.s.get(own.url("portal"), allow_redirects=False, timeout=10).status_code == 200
    r = other.s.get(other.url("portal"), allow_redirects=False, timeout=10)
    assert r.status_code == 302
    events = admin.get("portal/api/audit", htmx=False,
                       params={"user": victim.name, "kind": "password change"}).json()["events"]
    assert [e["actor"] for e in events] == [victim.name, world["admin_name"]], events


def test_3_password_sign_in_on_the_token_api_is_off(hub, world):
    body = {"auth": {"username": world["victim"].name, "password": "wrong-guess"}}
    s = session_from(next(_addresses))
    for _ in range(3):
        r = s.post(hub.hub_url(f"api/users/{world['victim'].name}/tokens"), json=body,
                   timeout=30)
        assert r.status_code == 403 and "/hub/login" in r.json()["message"], r.text
    right = {"auth": {"username": world["victim"].name, "password": PASSWORD}}
    r = s.post(hub.hub_url(f"api/users/{world['victim'].name}/tokens"), json=right, timeout=30)
    assert r.status_code == 403 and token_ids(hub, world["victim"].name) == set()


def test_4_sharing_a_server_with_host_power_needs_sudo(hub, world):
    owner, sharee = world["powered"], world["sharee"]
    for session in (world["admin"], signed_in(hub, owner.name)):
        for path, body in ((f"shares/{owner.name}/", {"user": sharee.name}),
                           (f"share-codes/{owner.name}/", {})):
            r = rest(session, "POST", path, body)
            assert r.status_code == 403, (session.name, path, r.status_code, r.text)
            assert "portal/api/sudo" in r.json()["message"]
        # A named server's card asks the same (the gate asks before its handler looks the
        # server up: whichever name is given).
        r = session.post(f"portal/users/{owner.name}/servers/work/shares",
                         {"kind": "user", "name": sharee.name})
        assert r.status_code == 403 and "data-sudo" in r.text, (session.name, r.text)
    assert shares_of(hub, owner.name) == []
    # A server without host power is shared as before.
    plain = world["victim"]
    plain.get("portal", htmx=False)
    r = rest(world["admin"], "POST", f"shares/{plain.name}/", {"user": sharee.name})
    assert r.status_code in (200, 201), r.text
    hub.sql("hub", "DELETE FROM shares")


@pytest.fixture
def production_cost_hub(docker_client, tmp_path):
    """A hub with production's bcrypt cost (the session hub's is the cheapest, and checks that
    take a millisecond never queue up)."""
    hub = Hub(tmp_path / "cost", env={"DSHUB_TEST_BCRYPT_ROUNDS": "12"})
    hub.start()
    yield hub
    hub.stop()


def test_3_password_checks_past_the_bound_are_refused_not_queued(production_cost_hub):
    """30 sign-ins at once, two from each of 15 addresses (none over its own limits), at
    accounts nobody has (no account is slowed): the hashing threads take 8 at a time, the rest
    are told to come back (429) instead of waiting in an unbounded queue."""
    from concurrent.futures import ThreadPoolExecutor

    hub = production_cost_hub

    tries = [(next(_addresses), f"gatenobody{next(_names)}") for _ in range(15)]
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda t: try_sign_in(hub, t[1], "wrong-password", t[0]),
                                [t for t in tries for _ in range(2)]))
    busy = [r for r in answers if r.status_code == 429 and "too many passwords" in r.text]
    assert busy, sorted(r.status_code for r in answers)
    assert all(r.status_code in (200, 429) for r in answers)


def wrong_sign_ins(hub, name: str, address: str, times: int) -> list[int]:
    return [try_sign_in(hub, name, "wrong-password", address).status_code
            for _ in range(times)]


def test_6_only_a_successful_sign_in_clears_the_throttle(hub, make_user):
    target, address = make_user("gatethrottle"), next(_addresses)
    pending = f"gatepending{next(_names)}"
    assert signup(hub, pending).status_code == 200  # waits for approval
    statuses = []
    for _ in range(3):
        statuses += wrong_sign_ins(hub, target.name, address, 4)
        s = session_from(address)  # a sign-up refused for another reason: a taken name
        s.get(hub.hub_url("signup"), timeout=10)
        r = s.post(hub.hub_url("signup"), timeout=30, data={
            "username": target.name, "signup_password": PASSWORD,
            "signup_password_confirmation": PASSWORD, "_xsrf": s.cookies.get("_xsrf", "")})
        statuses.append(r.status_code)
        statuses.append(try_sign_in(hub, pending, PASSWORD, address).status_code)
    assert 429 in statuses, statuses
    # The owner, from their own address, is never locked out.
    assert try_sign_in(hub, target.name, PASSWORD, next(_addresses)).status_code == 302
    hub.sql("hub", "DELETE FROM users_info WHERE username = :n", n=pending)  # not left waiting


def test_6_guesses_from_many_addresses_slow_the_account_but_not_its_owner(hub, make_user):
    target = make_user("gatespread")
    home = next(_addresses)
    assert try_sign_in(hub, target.name, PASSWORD, home).status_code == 302
    statuses = []
    for _ in range(12):  # two guesses from each address: no address is slowed by its own
        statuses += wrong_sign_ins(hub, target.name, next(_addresses), 2)
        if 429 in statuses:
            break
    assert 429 in statuses, statuses
    assert try_sign_in(hub, target.name, PASSWORD, home).status_code == 302


def test_sudo_and_password_changes_share_the_sign_in_throttle(hub, make_user):
    user, address = make_user("gatesudo"), next(_addresses)
    session = signed_in(hub, user.name, address)
    statuses = [session.confirm_sudo("wrong-password").status_code for _ in range(3)]
    statuses += [form(session, "change-password", {
        "old_password": "wrong-password", "new_password": NEW_PASSWORD,
        "new_password_confirmation": NEW_PASSWORD}).status_code for _ in range(3)]
    statuses += wrong_sign_ins(hub, user.name, address, 2)
    assert 429 in statuses, statuses
