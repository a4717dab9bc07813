"""Docker-access groups as tests read and change them."""

from __future__ import annotations


def members(hub, group: str) -> list[str]:
    r = hub.api("GET", f"groups/{group}")
    assert r.status_code == 200, r.text
    return sorted(r.json()["users"])


def change(admin, group: str, action: str, username: str):
    """The admin area's add/remove form for one user."""
    return admin.post(f"portal/admin/groups/{group}/{action}", {"username": username})
