"""Deleted accounts: their volumes go with them; a new account of the same name starts empty,
and a start over a volume labelled for another account is refused."""

from __future__ import annotations

import sqlite3

from tests.support.clients import (
    PASSWORD,
    Portal,
    ensure_running,
    ensure_stopped,
    signup,
    wait_state,
)
from tests.support.hub import Hub


def volumes_of(docker_client, name: str) -> dict[str, dict]:
    prefix = f"dshubtest-jupyterlab-{name}_"
    return {v.name: v.attrs.get("Labels") or {} for v in docker_client.volumes.list()
            if v.name.startswith(prefix)}


def test_a_new_account_with_a_deleted_accounts_name_does_not_get_its_files(
        hub, admin, make_user, docker_client):
    bob = make_user("bob")
    ensure_running(bob)
    lab = docker_client.containers.get(f"dshubtest-jupyterlab-{bob.name}")
    assert lab.exec_run(["sh", "-c", "echo secret > /home/lab/workspace/old.txt"]).exit_code == 0
    old_id = hub.api("GET", f"users/{bob.name}").json().get("id")
    labels = volumes_of(docker_client, bob.name)
    assert len(labels) == 3 and all(lb.get("dshub.owner") == bob.name for lb in labels.values())
    owner_ids = {lb.get("dshub.owner-id") for lb in labels.values()}
    assert len(owner_ids) == 1 and None not in owner_ids and (old_id is None or
                                                              owner_ids == {str(old_id)})
    ensure_stopped(bob)

    # The admin deletes bob through the hub's REST API (what its admin page calls).
    r = hub.api("DELETE", f"users/{bob.name}")
    assert r.status_code == 204, r.text
    assert volumes_of(docker_client, bob.name) == {}
    with sqlite3.connect(hub.data_dir / "portal.sqlite") as db:
        rows = db.execute("SELECT actor, detail FROM audit_events WHERE kind = 'account deleted'"
                          " AND target = ?", (bob.name,)).fetchall()
    assert rows and rows[-1][0] == "test-driver (service)" and "removed" in rows[-1][1]

    # A new account called bob: its lab starts with empty volumes.
    r = admin.post("portal/admin/users", {"username": bob.name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    new_bob = Portal(hub, bob.name)
    ensure_running(new_bob)
    lab = docker_client.containers.get(f"dshubtest-jupyterlab-{bob.name}")
    assert lab.exec_run(["test", "-e", "/home/lab/workspace/old.txt"]).exit_code != 0
    new_ids = {lb.get("dshub.owner-id") for lb in volumes_of(docker_client, bob.name).values()}
    assert new_ids and new_ids.isdisjoint(owner_ids)
    ensure_stopped(new_bob)


def test_a_start_over_a_volume_labelled_for_another_account_is_refused(make_user,
                                                                       docker_client):
    heir = make_user("heir")
    foreign = f"dshubtest-jupyterlab-{heir.name}_workspace"
    docker_client.volumes.create(foreign, labels={"dshub.owner-id": "987654",
                                                  "dshub.owner": heir.name})
    r = heir.post(f"portal/users/{heir.name}/start")
    assert r.status_code == 200, r.text
    assert wait_state(heir, heir.name, {"failed", "running"}) == "failed"
    card = heir.get(f"portal/users/{heir.name}/card").text
    assert "belongs to another account" in card and "987654" in card
    assert not docker_client.containers.list(all=True, filters={
        "name": f"dshubtest-jupyterlab-{heir.name}"})
    assert docker_client.volumes.get(foreign).attrs["Labels"]["dshub.owner-id"] == "987654"


def test_archived_volumes_are_listed_restored_into_a_new_account_and_deleted(tmp_path,
                                                                             docker_client):
    hub = Hub(tmp_path / "archive", base_url="/", env={"DELETED_USER_VOLUMES": "archive"})
    hub.start()
    name = "archivist"
    try:
        assert signup(hub, "admin").status_code == 200
        admin = Portal(hub, "admin")
        assert admin.post("portal/admin/users", {"username": name,
                                                 "password": PASSWORD}).status_code == 200
        user = Portal(hub, name)
        ensure_running(user)
        lab = docker_client.containers.get(f"dshubtest-jupyterlab-{name}")
        assert lab.exec_run(["sh", "-c", "echo kept > /home/lab/workspace/notes.txt"]
                            ).exit_code == 0
        ensure_stopped(user)
        old_id = volumes_of(docker_client, name)[f"dshubtest-jupyterlab-{name}_workspace"][
            "dshub.owner-id"]
        assert hub.api("DELETE", f"users/{name}").status_code == 204
        archives = {n for n in volumes_of(docker_client, name) if ".archived-" in n}
        assert archives == {f"dshubtest-jupyterlab-{name}_{k}.archived-{old_id}"
                            for k in ("home", "workspace", "cache")}
        assert set(volumes_of(docker_client, name)) == archives  # the originals are gone
        section = admin.get("portal/admin/archived-volumes").text
        assert all(a in section for a in archives) and "Restore" in section

        # Restore the workspace into a new account of the same name; delete the rest.
        assert admin.post("portal/admin/users", {"username": name,
                                                 "password": PASSWORD}).status_code == 200
        workspace = f"dshubtest-jupyterlab-{name}_workspace.archived-{old_id}"
        r = admin.post("portal/admin/archived-volumes/restore",
                       {"volume": workspace, "username": name})
        assert r.status_code == 200 and "Restored" in r.text, r.text
        for archive in archives - {workspace}:
            r = admin.post("portal/admin/archived-volumes/delete", {"volume": archive})
            assert r.status_code == 200, r.text
        assert not {n for n in volumes_of(docker_client, name) if ".archived-" in n}
        new_user = Portal(hub, name)
        ensure_running(new_user)
        lab = docker_client.containers.get(f"dshubtest-jupyterlab-{name}")
        out = lab.exec_run(["cat", "/home/lab/workspace/notes.txt"])
        assert out.exit_code == 0 and out.output.decode().strip() == "kept"
        labels = volumes_of(docker_client, name)[f"dshubtest-jupyterlab-{name}_workspace"]
        assert labels["dshub.owner-id"] != old_id
        ensure_stopped(new_user)
        with sqlite3.connect(hub.data_dir / "portal.sqlite") as db:
            kinds = [k for (k,) in db.execute(
                "SELECT kind FROM audit_events WHERE target = ?", (name,))]
        assert "account deleted" in kinds and kinds.count("volume archive") == 3
    finally:
        hub.stop()
