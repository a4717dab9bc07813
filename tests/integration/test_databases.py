"""Where the hub and the portal keep their data, and the upgrade from JupyterHub 5.5 to 6.x.

The session hub runs on SQLite by default and on a fresh PostgreSQL database when the run
provides a server (scripts/test.sh starts one for a second pass over these integration tests).
"""

from __future__ import annotations

import shutil

import jupyterhub
import requests
import sqlalchemy

from tests.support import postgres
from tests.support.clients import PASSWORD, Portal, signup
from tests.support.hub import ROOT, Hub

OLD_LINE_BIN = ROOT / ".venv-jh55" / "bin"


def tables(url: str) -> set[str]:
    engine = sqlalchemy.create_engine(url)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_session_hub_uses_the_runs_database(hub, admin):
    # The portal's store makes its tables at first use: reading the history is one.
    assert admin.get("portal/admin/broadcast").status_code == 200
    hub_tables = tables(hub.database_url)
    # The hub's tables, NativeAuthenticator's accounts, and (PostgreSQL: same database) the
    # portal's own; names never collide.
    assert {"users", "groups", "api_tokens", "users_info"} <= hub_tables
    if postgres.server_url():
        assert hub.database_url.startswith("postgresql+psycopg://")
        assert {"broadcasts", "membership_changes"} <= hub_tables
        assert not list(hub.data_dir.glob("*.sqlite"))
    else:
        assert (hub.data_dir / "jupyterhub.sqlite").exists()


def sign_in(hub: Hub, name: str) -> requests.Response:
    s = requests.Session()
    s.get(hub.hub_url("login"), timeout=10)
    return s.post(hub.hub_url("login"), allow_redirects=False, timeout=30, data={
        "username": name, "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf", "")})


def version(hub: Hub) -> str:
    return requests.get(hub.hub_url("api/"), timeout=10).json()["version"]


def test_a_55_database_and_store_upgrade_to_6_intact(docker_client, tmp_path):
    """Made by JupyterHub 5.5 (.venv-jh55), then started on a copy with this line (6.x)."""
    assert jupyterhub.version_info >= (6,), "run on the default line; .venv-jh55 makes the old"
    assert (OLD_LINE_BIN / "jupyterhub").exists(), "scripts/setup.sh --browser makes .venv-jh55"
    old = Hub(tmp_path / "made-on-5.5", base_url="/", venv_bin=OLD_LINE_BIN)
    old.start()
    try:
        assert version(old).startswith("5.5.")
        assert signup(old, "admin").status_code == 200
        for name in ("approved", "waiting"):
            assert signup(old, name).status_code == 200
        admin = Portal(old, "admin")
        assert admin.confirm_sudo().status_code == 200  # Docker access is granted below
        assert admin.post("portal/admin/signups/approved/approve").status_code == 200
        Portal(old, "approved")  # signs in: approved, and a hub user from now on
        assert old.api("POST", "groups/team-x", json={"users": ["approved"]}).status_code == 201
        r = admin.post("portal/admin/groups/docker-sock/add", {"username": "approved"})
        assert r.status_code == 200, r.text
        r = old.api("POST", "users/approved/tokens", json={"note": "kept", "expires_in": 86400})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        r = admin.post("portal/admin/broadcast", {
            "message": "Sent on 5.5", "type": "info", "auto_close": "after",
            "auto_close_seconds": "5", "recipients": "all"})
        assert r.status_code == 200, r.text
    finally:
        old.stop()

    new = Hub(tmp_path / "upgraded", base_url="/")
    shutil.copytree(old.data_dir, new.data_dir)
    (new.data_dir / "hub.log").unlink()
    new.start()
    try:
        assert version(new) == jupyterhub.__version__
        log = new.log_path.read_text()
        assert "Upgrading sqlite:///" in log
        assert list(new.data_dir.glob("jupyterhub.sqlite.*")), "no backup copy made"
        # Accounts and approvals.
        assert sign_in(new, "approved").status_code == 302
        r = sign_in(new, "waiting")
        assert r.status_code == 200 and "has not been approved" in r.text
        # Groups, including the Docker-access one, and the user's token.
        assert new.api("GET", "groups/team-x").json()["users"] == ["approved"]
        assert new.api("GET", "groups/docker-sock").json()["users"] == ["approved"]
        r = requests.get(new.hub_url("api/user"), headers={"Authorization": f"token {token}"},
                         timeout=30)
        assert r.status_code == 200 and r.json()["name"] == "approved"
        # The portal's store: broadcast history and the group audit.
        admin = Portal(new, "admin")
        assert "Sent on 5.5" in admin.get("portal/admin/broadcast").text
        audit = admin.get("portal/admin/groups").text
        assert "<td>admin</td>" in audit and "added approved to <code>docker-sock</code>" in audit
    finally:
        new.stop()
    # The original stays as 5.5 left it (the upgrade ran on the copy only).
    assert not list(old.data_dir.glob("jupyterhub.sqlite.*"))
