"""Accounts from a CSV as tests drive them: upload for a preview, confirm, wait, download."""

from __future__ import annotations

import re
import time

import requests

from .clients import Portal


def upload(admin: Portal, text: str) -> requests.Response:
    return admin.s.post(admin.url("portal/admin/batch/preview"), timeout=120,
                        files={"file": ("accounts.csv", text.encode(), "text/csv")},
                        headers={"HX-Request": "true", "X-XSRFToken": admin.xsrf})


def token_of(preview: requests.Response) -> str:
    found = re.findall(r"portal/admin/batch/([A-Za-z0-9_-]+)/confirm", preview.text)
    assert found, preview.text[:2000]
    return found[0]


def confirm(admin: Portal, token: str, grants: str = "") -> requests.Response:
    return admin.post(f"portal/admin/batch/{token}/confirm", {"grants": grants})


def wait_finished(admin: Portal, token: str, timeout: float = 120,
                  meanwhile=None) -> requests.Response:
    """Poll the progress as the page does (calling `meanwhile()` between polls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = admin.get(f"portal/admin/batch/{token}")
        assert r.status_code == 200, r.text
        if 'data-finished="yes"' in r.text:
            return r
        if meanwhile is not None:
            meanwhile()
        time.sleep(0.05)
    raise AssertionError(f"the batch {token} did not finish within {timeout} s")


def credentials(admin: Portal, token: str) -> requests.Response:
    return admin.s.post(admin.url(f"portal/admin/batch/{token}/credentials"), timeout=60,
                        data={"_xsrf": admin.xsrf})
