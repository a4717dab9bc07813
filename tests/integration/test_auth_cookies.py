"""The hub over HTTPS with its generated certificate: every cookie it sets is Secure and
SameSite=Lax (XSRF before sign-in, session and login cookies after)."""

from __future__ import annotations

import warnings

import pytest
import requests
from urllib3.exceptions import InsecureRequestWarning

from tests.support.clients import PASSWORD
from tests.support.hub import Hub

pytestmark = pytest.mark.hub


def set_cookies(r: requests.Response) -> dict[str, str]:
    """name -> the whole Set-Cookie line, for every cookie the answer sets."""
    return {line.split("=", 1)[0]: line for line in r.raw.headers.getlist("Set-Cookie")}


def assert_secure_lax(cookies: dict[str, str]) -> None:
    for name, line in cookies.items():
        attributes = {a.strip().lower() for a in line.split(";")[1:]}
        assert "secure" in attributes, f"{name} is not Secure: {line}"
        assert "samesite=lax" in attributes, f"{name} lacks SameSite=Lax: {line}"


def test_every_cookie_is_secure_and_lax_on_the_https_hub(tmp_path):
    hub = Hub(tmp_path / "hub", env={"ENABLE_JUPYTERHUB_SSL": "1"})
    hub.start()
    try:
        assert hub.url.startswith("https://")
        s = requests.Session()
        # The hub's self-signed certificate (test_tls_logo.py checks it); per request, because
        # a CA bundle in the environment overrides a session-wide setting.
        no_verify = {"verify": False, "timeout": 30}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)
            page = s.get(hub.hub_url("signup"), **no_verify)
            before = set_cookies(page)
            assert "_xsrf" in before
            assert_secure_lax(before)
            r = s.post(hub.hub_url("signup"), **no_verify, data={
                "username": "admin", "signup_password": PASSWORD,
                "signup_password_confirmation": PASSWORD, "setup_code": hub.setup_code(),
                "_xsrf": s.cookies.get("_xsrf")})
            assert "you can sign in now" in r.text, r.text[:300]
            s.get(hub.hub_url("login"), **no_verify)
            r = s.post(hub.hub_url("login"), allow_redirects=False, **no_verify, data={
                "username": "admin", "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf")})
        assert r.status_code == 302, r.text[:300]
        after = set_cookies(r)
        assert {"jupyterhub-hub-login", "jupyterhub-session-id", "_xsrf"} <= set(after), after
        assert_secure_lax(after)
    finally:
        hub.stop()
