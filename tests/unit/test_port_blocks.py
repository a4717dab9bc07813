"""The tests' port blocks (tests/support/hub.py): one per process, never two processes in one."""

from __future__ import annotations

import fcntl
import threading

import pytest

from tests.support import hub

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


def test_with_every_block_held_a_process_takes_the_first_one_given_back(tmp_path, monkeypatch):
    """Waiting for the wanted block alone hung a run: that block's holder was the run's other
    worker, which keeps it until the run ends."""
    monkeypatch.setattr(hub, "_LOCK_PATH", str(tmp_path / "ports-{}.lock"))
    held = {}
    for slot in range(hub._SLOTS):
        held[slot] = open(hub._LOCK_PATH.format(slot), "w")  # noqa: SIM115 (closed below)
        fcntl.flock(held[slot], fcntl.LOCK_EX | fcntl.LOCK_NB)
    got: list[int] = []
    claimer = threading.Thread(target=lambda: got.append(hub._claim_slot(1)[0]), daemon=True)
    claimer.start()
    held.pop(4).close()  # another process ends; the wanted block 1 stays held
    claimer.join(timeout=30)
    for lock in held.values():
        lock.close()
    assert got == [4]
