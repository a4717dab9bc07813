"""Deleted accounts: their volumes go with them; a new account of the same name starts empty,
and a start over a volume labelled for another account is refused."""

from __future__ import annotations

from tests.support.clients import (
    PASSWORD,
    Portal,
    ensure_running,
    ensure_stopped,
    signup,
    wait_state,
)
from tests.support.hub import PREFIX, Hub


def volumes_of(docker_client, name: str) -> dict[str, dict]:
    prefix = f"{PREFIX}jupyterlab-{name}_"
    return {v.name: v.attrs.get("Labels") or {} for v in docker_client.volumes.list()
            if v.name.startswith(prefix)}


def test_a_new_account_with_a_deleted_accounts_name_does_not_get_its_files(
        hub, admin, make_user, docker_client):
    bob = make_user("standinbob")
    ensure_running(bob)
    lab = docker_client.containers.get(f"{PREFIX}jupyterlab-{bob.name}")
    assert lab.exec_run(["sh", "-c", "echo secret > /home/lab/workspace/old.txt"]).exit_code == 0
    labels = volumes_of(docker_client, bob.name)
    ensure_stopped(bob)

    # The admin deletes bob through the hub's REST API (what its admin page calls).
    r = hub.api("DELETE", f"users/{bob.name}")
    assert r.status_code == 204, r.text
    left_after_deletion = volumes_of(docker_client, bob.name)

    # A new account called bob: its lab starts with empty volumes.
    r = admin.post("portal/admin/users", {"username": bob.name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    new_bob = Portal(hub, bob.name)
    ensure_running(new_bob)
    lab = docker_client.containers.get(f"{PREFIX}jupyterlab-{bob.name}")
    assert lab.exec_run(["test", "-e", "/home/lab/workspace/old.txt"]).exit_code != 0
    # How: the old volumes carried the old account's key, and went with it (event logged).
    assert left_after_deletion == {}
    rows = hub.sql("portal", "SELECT actor, detail FROM audit_events"
                   " WHERE kind = 'account deleted' AND target = :target", target=bob.name)
    assert rows and rows[-1][0] == "test-driver (service)" and "removed" in rows[-1][1]
    assert len(labels) == 3 and all(lb.get("dshub.owner") == bob.name for lb in labels.values())
    ids = {lb.get("dshub.owner-id") for lb in labels.values()}
    assert len(ids) == 1 and next(iter(ids)).isdigit()
    old_id = next(iter(ids))
    # The account key: the id plus the creation time (SQLite re-uses a deleted user's id).
    owner_keys = {lb.get("dshub.owner-key") for lb in labels.values()}
    assert len(owner_keys) == 1 and next(iter(owner_keys)).startswith(f"{old_id}-")
    new_keys = {lb.get("dshub.owner-key") for lb in volumes_of(docker_client, bob.name).values()}
    assert new_keys and None not in new_keys and new_keys.isdisjoint(owner_keys)
    ensure_stopped(new_bob)


def test_a_start_over_a_volume_labelled_for_another_account_is_refused(make_user,
                                                                       docker_client):
    heir = make_user("heir")
    foreign = f"{PREFIX}jupyterlab-{heir.name}_workspace"
    docker_client.volumes.create(foreign, labels={"dshub.owner-key": "987654-20250101T000000",
                                                  "dshub.owner-id": "987654",
                                                  "dshub.owner": heir.name})
    r = heir.post(f"portal/users/{heir.name}/start")
    assert r.status_code == 200, r.text
    assert wait_state(heir, heir.name, {"failed", "running"}) == "failed"
    card = heir.get(f"portal/users/{heir.name}/card").text
    assert "belongs to another account" in card and "987654" in card
    assert not docker_client.containers.list(all=True, filters={
        "name": f"{PREFIX}jupyterlab-{heir.name}"})
    assert docker_client.volumes.get(foreign).attrs["Labels"]["dshub.owner-id"] == "987654"
    # The other two volumes were created for the heir, labelled as theirs.
    mine = volumes_of(docker_client, heir.name)
    assert mine[f"{PREFIX}jupyterlab-{heir.name}_home"]["dshub.owner"] == heir.name


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
        lab = docker_client.containers.get(f"{PREFIX}jupyterlab-{name}")
        assert lab.exec_run(["sh", "-c", "echo kept > /home/lab/workspace/notes.txt"]
                            ).exit_code == 0
        ensure_stopped(user)
        old_key = volumes_of(docker_client, name)[f"{PREFIX}jupyterlab-{name}_workspace"][
            "dshub.owner-key"]
        assert hub.api("DELETE", f"users/{name}").status_code == 204
        archives = {n for n in volumes_of(docker_client, name) if ".archived-" in n}
        assert len(archives) == 3 and all(
            any(a.startswith(f"{PREFIX}jupyterlab-{name}_{k}.archived-") for a in archives)
            for k in ("home", "workspace", "cache"))
        assert set(volumes_of(docker_client, name)) == archives  # the originals are gone
        section = admin.get("portal/admin/archived-volumes").text
        assert all(a in section for a in archives) and "Restore" in section

        # Restore the workspace into a new account of the same name; delete the rest.
        assert admin.post("portal/admin/users", {"username": name,
                                                 "password": PASSWORD}).status_code == 200
        workspace = next(a for a in archives if "_workspace.archived-" in a)
        # Only admins see or act on archives.
        new_user = Portal(hub, name)
        assert new_user.get("portal/admin/archived-volumes").status_code == 403
        r = new_user.post("portal/admin/archived-volumes/delete", {"volume": workspace})
        assert r.status_code == 403 and workspace in volumes_of(docker_client, name)
        r = admin.post("portal/admin/archived-volumes/restore",
                       {"volume": workspace, "username": name})
        assert r.status_code == 200 and "Restored" in r.text, r.text
        for archive in archives - {workspace}:
            r = admin.post("portal/admin/archived-volumes/delete", {"volume": archive})
            assert r.status_code == 200, r.text
        assert not {n for n in volumes_of(docker_client, name) if ".archived-" in n}
        ensure_running(new_user)
        lab = docker_client.containers.get(f"{PREFIX}jupyterlab-{name}")
        out = lab.exec_run(["cat", "/home/lab/workspace/notes.txt"])
        assert out.exit_code == 0 and out.output.decode().strip() == "kept"
        labels = volumes_of(docker_client, name)[f"{PREFIX}jupyterlab-{name}_workspace"]
        assert labels["dshub.owner-key"] != old_key
        ensure_stopped(new_user)
        kinds = [k for (k,) in hub.sql(
            "portal", "SELECT kind FROM audit_events WHERE target = :target", target=name)]
        assert "account deleted" in kinds and kinds.count("volume archive") == 3
    finally:
        hub.stop()
