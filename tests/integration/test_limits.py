"""Lab limits on the real engine, on the stand-in lab (users named standin*: the limits are the
container's): what groups imply, pending changes, out of memory
(bad input: tests/inprocess/test_limits_input.py)."""

from __future__ import annotations

import contextlib
import time

import docker.errors

from tests.support.clients import card_state, ensure_running, ensure_stopped, wait_state
from tests.support.hub import PREFIX, containers_named
from tests.support.limits import (
    MIB,
    container_limits,
    events,
    make_group,
    set_limits,
)


def test_member_of_two_groups_gets_the_higher_limits_and_changes_wait_for_restart(
        hub, admin, make_user, docker_client):
    user = make_user("standinlimited")
    make_group(hub, "lim-small", user.name)
    make_group(hub, "lim-large", user.name)
    r = set_limits(admin, "lim-small", "512M", "0.5")
    assert r.status_code == 200 and "lim-small: memory 512 MiB, CPUs 0.5" in r.text, r.text
    r = hub.api("PUT", "../portal/api/limits/groups/lim-large",
                json={"memory": "768M", "cpus": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"group": "lim-large", "memory_bytes": 768 * MIB, "cpus": 1.0,
                        "named_servers": "default"}

    ensure_running(user)
    assert container_limits(docker_client, user.name) == (768 * MIB, 768 * MIB, 10**9)
    card = user.get(f"portal/users/{user.name}/card").text
    assert "Limits: 768 MiB memory, 1 CPU" in card and "Restart to apply" not in card

    # A change waits for the next start; the card says so and offers to apply it.
    assert set_limits(admin, "lim-large", "1G", "none").status_code == 200
    card = user.get(f"portal/users/{user.name}/card").text
    assert "Your limits changed" in card and "Restart to apply" in card
    assert "Limits: 1 GiB memory, no CPU limit" in card
    assert container_limits(docker_client, user.name) == (768 * MIB, 768 * MIB, 10**9)
    old = docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}").id
    assert user.post(f"portal/users/{user.name}/recreate").status_code == 200
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ids = containers_named(docker_client, stopped_too=False)
        if ids.get(f"{PREFIX}jupyterlab-{user.name}") not in (None, old):
            break
        time.sleep(0.5)
    assert wait_state(user, user.name, {"running"}) == "running"
    assert container_limits(docker_client, user.name) == (1024 * MIB, 1024 * MIB, 0)
    assert "Restart to apply" not in user.get(f"portal/users/{user.name}/card").text
    changes = events(hub, "limit change", "lim-large")
    assert [c[2] for c in changes] == [
        "memory default, CPUs default -> memory 768 MiB, CPUs 1",
        "memory 768 MiB, CPUs 1 -> memory 1 GiB, CPUs no limit",
    ]
    assert changes[0][0] == "test-driver (service)" and changes[1][0] == "admin"
    ensure_stopped(user)


def test_out_of_memory_is_explained_and_start_brings_the_lab_back(hub, admin, make_user,
                                                                   docker_client):
    user = make_user("standinhungry")
    make_group(hub, "lim-256", user.name)
    assert set_limits(admin, "lim-256", "256M", "").status_code == 200
    ensure_running(user)
    lab = docker_client.containers.get(f"{PREFIX}jupyterlab-{user.name}")
    assert lab.attrs["HostConfig"]["Memory"] == 256 * MIB
    # The kernel's OOM killer takes the biggest process; make it the lab server itself, as when
    # the server (not a kernel) outgrows the limit, then allocate 512 MiB inside the lab.
    assert lab.exec_run(["sh", "-c", "echo 1000 > /proc/1/oom_score_adj"]).exit_code == 0
    lab.exec_run(["python3", "-c", "x = b'\\x01' * (512 << 20); import time; time.sleep(30)"],
                 detach=True)
    deadline = time.monotonic() + 60
    card = ""
    while time.monotonic() < deadline:
        card = user.get(f"portal/users/{user.name}/card").text
        if "ran out of memory" in card:
            break
        time.sleep(0.5)
    assert "stopped: it ran out of memory (limit 256 MiB)" in card, card
    with contextlib.suppress(docker.errors.NotFound):  # the hub's poll may have removed it
        lab.reload()
        assert lab.attrs["State"]["OOMKilled"] is True
    # The hub notices within its poll: the card still says why, the event log and hub log too.
    assert wait_state(user, user.name, {"stopped"}, timeout=30) == "stopped"
    card = user.get(f"portal/users/{user.name}/card").text
    assert "stopped: it ran out of memory (limit 256 MiB)" in card and "Start" in card
    assert any("ran out of memory (limit 256 MiB)" in e[2] and not e[3]
               for e in events(hub, "server exited", user.name))
    assert f"Lab of {user.name} stopped: it ran out of memory" in hub.log_path.read_text()
    assert user.post(f"portal/users/{user.name}/start").status_code == 200
    assert wait_state(user, user.name, {"running", "failed"}) == "running"
    assert "ran out of memory" not in user.get(f"portal/users/{user.name}/card").text
    assert card_state(user.get(f"portal/users/{user.name}/card").text) == "running"
    ensure_stopped(user)
