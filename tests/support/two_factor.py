"""Two-factor sign-in as tests drive it: turn it on from My account, sign in with a code, and
set the admins' rule with the driver's token (an admin's session would be sent to set up its
own second factor as soon as the rule is on)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from urllib.parse import urljoin

import pyotp
import requests

from .clients import Portal, session_from


def code(secret: str, steps_ahead: int = 1) -> str:
    """The code of a coming time step: the hub accepts one step of drift, and a code of a step
    later than the last one used (the step that confirmed the set-up is used)."""
    return pyotp.TOTP(secret).at(datetime.fromtimestamp(time.time() + 30 * steps_ahead, UTC))


def turn_on(portal: Portal) -> tuple[str, list[str]]:
    """Set up two-factor sign-in on `portal`'s My account; (secret, recovery codes)."""
    r = portal.post("portal/account/two-factor/start")
    assert r.status_code == 200, r.text
    secret = re.findall(r'id="two-factor-secret">([A-Z2-7]+)<', r.text)[0]
    r = portal.post("portal/account/two-factor/confirm", {"code": code(secret, 0)})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.text
    return secret, re.findall(r'class="recovery-code">([^<]+)<', r.text)


def password_step(hub, name: str, password: str,
                  address: str = "127.0.0.1") -> tuple[requests.Session, requests.Response]:
    """The sign-in form with the password; the session then holds the code page's ticket."""
    s = session_from(address)
    s.get(hub.hub_url("login"), timeout=10)
    r = s.post(hub.hub_url("login"), allow_redirects=False, timeout=30, data={
        "username": name, "password": password, "_xsrf": s.cookies.get("_xsrf", "")})
    return s, r


def code_step(hub, s: requests.Session, given: str) -> requests.Response:
    return s.post(hub.hub_url("portal/login/code"), allow_redirects=False, timeout=30,
                  data={"code": given, "_xsrf": s.cookies.get("_xsrf", "")})


def signed_in(hub, s: requests.Session) -> bool:
    r = s.get(hub.hub_url("portal/account"), allow_redirects=False, timeout=30)
    return r.status_code == 200


def require_for_host_power(hub, required: bool) -> None:
    r = requests.put(hub.hub_url("portal/api/account-policy"), timeout=30,
                     json={"two_factor_for_host_power": required},
                     headers={"Authorization": f"token {hub.token}"})
    assert r.status_code == 200, r.text


def location(hub, r: requests.Response) -> str:
    return urljoin(hub.hub_url(""), r.headers.get("Location", ""))
