"""Signed-in HTTP sessions against the real hub, speaking htmx like the portal's pages do."""

from __future__ import annotations

import itertools
import re
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import quote, urlparse

import requests
from requests.adapters import HTTPAdapter

from .hub import Hub

PASSWORD = "Ds-hub-test-pw-2026"


class LocalhostDomainPolicy(DefaultCookiePolicy):
    """Keep `Domain=localhost` cookies, as browsers do (Python's jar drops them).

    With JUPYTERHUB_SUBDOMAIN_HOST=http://localhost:<port> the hub sets its session-id cookie
    for the domain `localhost`.
    """

    @staticmethod
    def _localhost(cookie, request) -> bool:
        host = urlparse(request.get_full_url()).hostname or ""
        return cookie.domain.lstrip(".") == "localhost" and (
            host == "localhost" or host.endswith(".localhost"))

    def set_ok_domain(self, cookie, request) -> bool:
        return self._localhost(cookie, request) or super().set_ok_domain(cookie, request)

    def return_ok_domain(self, cookie, request) -> bool:
        return self._localhost(cookie, request) or super().return_ok_domain(cookie, request)

    def domain_return_ok(self, domain, request) -> bool:
        host = urlparse(request.get_full_url()).hostname or ""
        if domain.lstrip(".") == "localhost" and host.endswith("localhost"):
            return True
        return super().domain_return_ok(domain, request)


class Portal:
    """A browser-less session of one signed-in user."""

    def __init__(self, hub: Hub, name: str, password: str = PASSWORD) -> None:
        self.hub, self.name = hub, name
        self.s = requests.Session()
        self.s.cookies.set_policy(LocalhostDomainPolicy())
        self.s.get(hub.hub_url("login"), timeout=10)
        r = self.s.post(
            hub.hub_url("login"),
            data={"username": name, "password": password, "_xsrf": self.xsrf},
            allow_redirects=False, timeout=30,
        )
        assert r.status_code == 302, f"login of {name} failed: {r.status_code}"
        # requests sends through a fresh jar with the default policy, which drops the hub's
        # Domain=localhost session cookie: keep it as a host cookie for localhost instead.
        for cookie in list(self.s.cookies):
            if cookie.domain == ".localhost":
                self.s.cookies.set(cookie.name, cookie.value, domain="localhost.local",
                                   path=cookie.path)

    @property
    def xsrf(self) -> str:
        # JupyterLab sets its own _xsrf under /user/<name>/; the hub's is the shortest path.
        cookies = [c for c in self.s.cookies if c.name == "_xsrf"]
        cookies.sort(key=lambda c: len(c.path))
        return cookies[0].value if cookies else ""

    def url(self, path: str) -> str:
        return self.hub.hub_url(path)

    def confirm_sudo(self, password: str = PASSWORD) -> requests.Response:
        """Sudo mode for this session (actions that grant host power)."""
        return self.s.post(self.url("portal/api/sudo"), json={"password": password},
                           headers={"X-XSRFToken": self.xsrf}, timeout=30)

    def get(self, path: str, htmx: bool = True, **kw) -> requests.Response:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.s.get(self.url(path), headers=headers, timeout=60, **kw)

    # A session that keeps sudo mode (the session admin): a hub restart forgets confirmations
    # (they live in the hub's memory), so a refused grant confirms again and is sent once more.
    keeps_sudo = False

    def post(self, path: str, data=None, xsrf: bool = True, **kw) -> requests.Response:
        headers = {"HX-Request": "true"}
        if xsrf:
            headers["X-XSRFToken"] = self.xsrf
        r = self.s.post(self.url(path), data=data, headers=headers, timeout=60, **kw)
        if self.keeps_sudo and r.status_code == 403 and "data-sudo" in r.text:
            assert self.confirm_sudo().status_code == 200
            r = self.s.post(self.url(path), data=data, headers=headers, timeout=60, **kw)
        return r


def signup(hub: Hub, name: str, password: str = PASSWORD,
           setup_code: str | None = None, email: str = "") -> requests.Response:
    """Sign up through the form. The configured admin (`admin` in tests) gets the hub's
    one-time setup code unless the test passes one (or "" for none); `email` is optional."""
    if setup_code is None:
        setup_code = hub.setup_code() if name == "admin" else ""
    s = requests.Session()
    s.get(hub.hub_url("signup"), timeout=10)
    return s.post(hub.hub_url("signup"), timeout=30, data={
        "username": name, "signup_password": password,
        "signup_password_confirmation": password, "_xsrf": s.cookies.get("_xsrf", ""),
        "setup_code": setup_code, "email": email,
    })


def user_path(name: str) -> str:
    return quote(name, safe="")


def card_state(html: str) -> str:
    found = re.findall(r'data-state="(\w+)"', html)
    assert found, f"no server card in: {html[:300]}"
    return found[0]


def wait_state(portal: Portal, user: str, want: set[str], timeout: float = 90) -> str:
    """Poll the card (as the page does) until its state is one of `want`."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        r = portal.get(f"portal/users/{user_path(user)}/card")
        assert r.status_code == 200, r.text[:300]
        state = card_state(r.text)
        if state in want:
            return state
        time.sleep(0.3)
    raise AssertionError(f"{user}'s server stayed {state!r}, wanted {want}")


def named_state(user: Portal, server: str, want: set[str], timeout: float = 120) -> str:
    """Poll a named server's card until its state is one of `want`."""
    deadline, state = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        r = user.get(f"portal/users/{user.name}/servers/{server}/card")
        assert r.status_code == 200, r.text[:300]
        state = re.findall(r'data-state="(\w+)"', r.text)[0]
        if state in want:
            assert state != "failed" or "failed" in want and "running" not in want, r.text
            return state
        time.sleep(0.5)
    raise AssertionError(f"{user.name}'s server {server} stayed {state!r}, wanted {want}")


def ensure_running(portal: Portal, user: str | None = None) -> None:
    """Start the server from the portal unless it already runs; wait until it does."""
    user = user or portal.name
    state = card_state(portal.get(f"portal/users/{user_path(user)}/card").text)
    if state != "running":
        r = portal.post(f"portal/users/{user_path(user)}/start")
        assert r.status_code == 200, r.text
    assert wait_state(portal, user, {"running", "failed"}) == "running"


def ensure_stopped(portal: Portal, user: str | None = None) -> None:
    user = user or portal.name
    state = card_state(portal.get(f"portal/users/{user_path(user)}/card").text)
    if state not in ("stopped", "stopping"):
        r = portal.post(f"portal/users/{user_path(user)}/stop")
        assert r.status_code == 200, r.text
    assert wait_state(portal, user, {"stopped"}) == "stopped"


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def session_from(address: str = "127.0.0.1") -> requests.Session:
    """A session whose connections come from another loopback address (another client)."""
    s = requests.Session()
    adapter = _FromAddress(address)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def try_sign_in(hub: Hub, name: str, password: str = PASSWORD,
                address: str = "127.0.0.1") -> requests.Response:
    """One sign-in through the login form from `address`; 302 means it worked."""
    s = session_from(address)
    s.get(hub.hub_url("login"), timeout=10)
    return s.post(hub.hub_url("login"), allow_redirects=False, timeout=30, data={
        "username": name, "password": password, "_xsrf": s.cookies.get("_xsrf", "")})


def admin_in_sudo_mode(hub: Hub) -> Portal:
    """The configured admin's session, its password confirmed (grants ask for nothing); a
    session-hub restart, which forgets confirmations (they live in memory), confirms again."""
    portal = Portal(hub, "admin")
    r = portal.confirm_sudo()
    assert r.status_code == 200, r.text
    portal.keeps_sudo = True
    after_restart = getattr(hub, "after_restart", None)
    if after_restart is not None:
        after_restart.append(lambda: portal.confirm_sudo().raise_for_status())
    return portal


def account_maker(hub: Hub, admin: Portal):
    """`make(base)`: an account created through the portal's admin form, signed in."""
    counter = itertools.count()

    def make(base: str = "user") -> Portal:
        name = f"{base}{next(counter)}"
        r = admin.post("portal/admin/users", {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return Portal(hub, name)

    return make
