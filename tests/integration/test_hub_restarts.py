"""Hub restarts in a row (fifty in the stress run), none ending in a crash (real hub + Docker;
both JupyterHub lines).

A hub once died with SIGSEGV while starting, right after its start-up tasks began
(portal/platform/heap.py froze objects from a gc callback then). Every start here must reach its
start-up tasks (the "Froze ... start-up objects" line of portal/platform/heap.py) and serve;
every stop must be the hub's own exit after SIGTERM (no other signal, no SIGKILL after a hang);
the log must hold no "Fatal Python error" (the hub runs with PYTHONFAULTHANDLER=1,
tests/support/hub.py). The last restarts
happen with a lab running, which the new hub finds again, as in test_spawn.py's restart test.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from pathlib import Path

from tests.support.clients import Portal, ensure_running, signup, wait_state
from tests.support.hub import PREFIX, Hub, remove_named_objects

# 50 in the stress run (`make stress`, DSHUB_HUB_RESTARTS=50); `make test` makes fewer: a
# restart takes 2.7 s on an idle machine, and three to four times that beside the rest of the
# suite, so 50 on each line would be most of a 10-minute budget.
RESTARTS = int(os.environ.get("DSHUB_HUB_RESTARTS", "50"))
WITH_LAB = min(5, RESTARTS // 2)  # the last restarts, with a lab running
STARTUP_TASKS_BOUND = 30.0  # seconds from answering to the start-up tasks' first line
FROZE = re.compile(r"Froze \d+ start-up objects")
# Logged just before JupyterHub installs its SIGTERM handler: a stop before it kills the hub.
RUNNING = "JupyterHub is now running"
# Docker objects of its own: its admin's lab is not the session hub's admin's lab.
OWN_PREFIX = f"{PREFIX}restarts-"


def _log_since(hub: Hub, offset: int) -> str:
    with open(hub.log_path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def _crash_in(text: str) -> str | None:
    """The faulthandler report in a stretch of the hub's log, if any."""
    at = text.find("Fatal Python error")
    return text[at:at + 6000] if at >= 0 else None


def start_checked(hub: Hub) -> None:
    """Start the hub and wait until its start-up tasks ran; fail on any crash meanwhile."""
    offset = hub.log_path.stat().st_size if hub.log_path.exists() else 0
    try:
        hub.start()
    except RuntimeError as e:
        crash = _crash_in(_log_since(hub, offset))
        raise AssertionError(f"the hub did not start: {e}\n{crash or ''}") from None
    deadline = time.monotonic() + STARTUP_TASKS_BOUND
    while True:
        text = _log_since(hub, offset)
        crash = _crash_in(text)
        assert crash is None, f"the hub crashed while starting:\n{crash}"
        assert hub.proc is not None
        code = hub.proc.poll()
        assert code is None, f"the hub exited with {code} while starting:\n{hub.log_tail()}"
        if FROZE.search(text) and RUNNING in text:
            return
        assert time.monotonic() < deadline, (
            f"no start-up tasks within {STARTUP_TASKS_BOUND} s:\n{hub.log_tail()}")
        time.sleep(0.05)


def stop_checked(hub: Hub) -> None:
    """SIGTERM the hub; it must exit by itself, cleanly (a signal in its exit code is a crash,
    -9 a hang that tests/support/hub.py ended)."""
    assert hub.proc is not None
    offset = hub.log_path.stat().st_size
    code = hub.proc.poll()
    if code is not None:
        crash = _crash_in(hub.log_path.read_text(errors="replace"))
        raise AssertionError(f"the hub exited with {code} before it was stopped:\n"
                             f"{crash or hub.log_tail()}")
    hub.stop()
    code = hub.proc.returncode
    crash = _crash_in(_log_since(hub, offset))
    assert crash is None, f"the hub crashed while stopping:\n{crash}"
    # -SIGTERM: ours, in the microseconds between RUNNING and the handler; any other signal is
    # a crash, SIGKILL a hang.
    assert code is not None and code in (0, -signal.SIGTERM), (
        f"the hub ended with {code} when stopped:\n{hub.log_tail()}")


def test_restarts_without_a_crash(tmp_path: Path, docker_client) -> None:
    hub = Hub(tmp_path / "restarts", base_url="/", env={"DSHUB_TEST_PREFIX": OWN_PREFIX})
    hub.warm_start = False  # fresh processes, as production starts them: the crash was there
    timings: list[float] = []
    try:
        start_checked(hub)
        assert signup(hub, "admin").status_code == 200
        for n in range(RESTARTS):
            if n == RESTARTS - WITH_LAB:
                ensure_running(Portal(hub, "admin"))
            began = time.monotonic()
            stop_checked(hub)
            start_checked(hub)
            timings.append(time.monotonic() - began)
        # The hub found the lab again after those restarts.
        assert wait_state(Portal(hub, "admin"), "admin", {"running"}) == "running"
    finally:
        print(f"{len(timings)} restarts: {sum(timings):.1f} s, "
              f"longest {max(timings, default=0):.2f} s")
        hub.stop()
        if hub.proc is not None:  # a crashed hub's proxy (same process group) outlives it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(hub.proc.pid, signal.SIGKILL)
        remove_named_objects(docker_client, OWN_PREFIX)
    log = hub.log_path.read_text(errors="replace")
    assert "Fatal Python error" not in log
    assert len(FROZE.findall(log)) == RESTARTS + 1


def test_a_warm_started_hub_shows_its_crash_like_a_fresh_one(tmp_path: Path) -> None:
    """The other tests' hubs are forked from a warm process (tests/support/warm_hubs.py): a
    crash must still end in the signal's exit code and a faulthandler report in its log, which
    is what the session hub's check (tests/conftest.py) and the crash checks above read."""
    hub = Hub(tmp_path / "warm", base_url="/", env={"DSHUB_TEST_PREFIX": OWN_PREFIX})
    hub.warm_start = True
    try:
        start_checked(hub)
        assert hub.proc is not None and hub.proc.poll() is None
        os.kill(hub.proc.pid, signal.SIGSEGV)
        assert hub.proc.wait(30) == -signal.SIGSEGV
        assert _crash_in(hub.log_path.read_text(errors="replace")) is not None, hub.log_tail()
    finally:
        hub.stop()
