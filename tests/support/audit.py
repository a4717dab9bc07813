"""The event log as tests read it: the portal's audit API with the driver's token."""

from __future__ import annotations

import requests


def audit_api(hub, **params) -> requests.Response:
    return requests.get(hub.hub_url("portal/api/audit"), params=params, timeout=30,
                        headers={"Authorization": f"token {hub.token}"})


def audit(hub, **params) -> list[dict]:
    r = audit_api(hub, **params)
    assert r.status_code == 200, r.text
    return r.json()["events"]
