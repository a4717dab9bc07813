"""With labs on their own origin, the hub's login cookie cannot be planted by a lab (real hub).

A lab at `<user>.<host>` may set cookies for the parent domain, which the browser then sends
to the hub: a login cookie of the lab owner's choosing (session fixation) would be read by the
hub. A `__Host-` cookie can only be set by the host itself, without a Domain, on path `/`, with
Secure: with `JUPYTERHUB_SUBDOMAIN_HOST` the hub names its login cookie so.
"""

from __future__ import annotations

import pytest
import requests

from tests.support.clients import PASSWORD
from tests.support.hub import Hub

pytestmark = pytest.mark.hub


NO_VERIFY = {"verify": False, "timeout": 30}  # the hub's own self-signed certificate


@pytest.fixture(scope="module")
def subdomain_hub(docker_client, tmp_path_factory):
    """Labs on `<user>.localhost`, the hub serving HTTPS itself (as behind Traefik in
    production: the prefix needs an https origin)."""
    h = Hub(tmp_path_factory.mktemp("subdomains"), subdomains=True)
    h.extra_env.update({"ENABLE_JUPYTERHUB_SSL": "1",
                        "JUPYTERHUB_SUBDOMAIN_HOST": f"https://localhost:{h.ports['proxy']}"})
    h.start()
    s = requests.Session()
    s.get(h.hub_url("signup"), **NO_VERIFY)
    r = s.post(h.hub_url("signup"), **NO_VERIFY, data={
        "username": "admin", "signup_password": PASSWORD,
        "signup_password_confirmation": PASSWORD, "_xsrf": s.cookies.get("_xsrf", ""),
        "setup_code": h.setup_code()})
    assert r.status_code == 200, r.text[:300]
    yield h
    h.stop()


def sign_in(hub: Hub) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    s.get(hub.hub_url("login"), **NO_VERIFY)
    r = s.post(hub.hub_url("login"), allow_redirects=False, **NO_VERIFY, data={
        "username": "admin", "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf", "")})
    assert r.status_code == 302, r.text[:300]
    return s, r


def set_cookies(r: requests.Response) -> list[str]:
    return r.raw.headers.getlist("Set-Cookie")


def test_the_hub_login_cookie_has_the_host_prefix_with_subdomains(subdomain_hub):
    _, r = sign_in(subdomain_hub)
    login = [c for c in set_cookies(r) if "hub-login=" in c]
    assert login, set_cookies(r)
    for cookie in login:
        assert cookie.startswith("__Host-jupyterhub-hub-login="), cookie
        attributes = [a.strip().lower() for a in cookie.split(";")[1:]]
        assert "path=/" in attributes and "secure" in attributes, cookie
        assert not any(a.startswith("domain=") for a in attributes), cookie
    # A cookie of the old name (what a lab can set for the parent domain) signs nobody in.
    planted = requests.get(subdomain_hub.hub_url("portal"), allow_redirects=False, **NO_VERIFY,
                           cookies={"jupyterhub-hub-login": "forged"})
    assert planted.status_code == 302 and "login" in planted.headers["Location"]


def test_signed_in_sessions_still_work_with_the_prefix(subdomain_hub):
    s, _ = sign_in(subdomain_hub)
    r = s.get(subdomain_hub.hub_url("portal"), **NO_VERIFY)
    assert r.status_code == 200 and "admin" in r.text
