"""The hub's collection policy: survivors of a full collection are frozen, garbage is not, and
nothing runs from inside the collector."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.platform import heap

ROOT = Path(__file__).resolve().parents[2]

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


class Node:
    pass


@pytest.fixture
def policy() -> Iterator[heap.FreezePolicy]:
    callbacks = list(gc.callbacks)
    policy = heap.FreezePolicy()
    yield policy
    gc.unfreeze()
    assert gc.callbacks == callbacks, "the policy left a gc callback behind"


def garbage_cycle() -> weakref.ref:
    dropped = Node()
    dropped.self = dropped  # a cycle: only a collection can free it
    return weakref.ref(dropped)


def unfrozen(objects: list) -> int:
    """How many of `objects` a full collection still walks (frozen ones are in no generation).

    Membership, not `gc.get_freeze_count()`: the count moves with whatever else the
    interpreter frees meanwhile."""
    walked = {id(o) for o in gc.get_objects()}
    return sum(id(o) in walked for o in objects)


def in_own_process(check: str) -> None:
    """Run the check `check` of this module in an interpreter of its own. The collector's
    counts and the frozen objects are the whole process's, and a test worker may also hold an
    in-process hub whose own policy collects and freezes on its own schedule: its collection
    once made one of this test's `gc.collect()` return without collecting (run 64)."""
    r = subprocess.run([sys.executable, "-c", f"from tests.unit.test_heap import {check}; "
                        f"{check}()"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]


def test_survivors_of_the_start_are_frozen_and_garbage_is_not():
    in_own_process("check_start_freeze")


def test_after_a_full_collection_of_the_interpreter_the_loop_freezes_its_survivors():
    in_own_process("check_freeze_after_collection")


def check_start_freeze() -> None:
    policy = heap.FreezePolicy()
    kept = [Node() for _ in range(1000)]
    alive = garbage_cycle()
    assert policy.freeze_survivors() > 0
    assert unfrozen(kept) == 0
    assert alive() is None, "the garbage cycle was frozen instead of collected"
    # Frozen objects are still freed by reference counting.
    probe = weakref.ref(kept[0])
    kept.clear()
    assert probe() is None


def check_freeze_after_collection() -> None:
    policy = heap.FreezePolicy()
    policy.freeze_survivors()
    later = [Node() for _ in range(1000)]
    assert not policy.freeze_if_collected(), "froze without a full collection since the last"
    gc.collect()  # stands for one the interpreter's thresholds started
    alive = garbage_cycle()  # garbage made after that collection is still collected
    # Nothing froze from inside the collector: no callback of ours, `later` still walked.
    assert not [cb for cb in gc.callbacks if getattr(cb, "__module__", "") == heap.__name__]
    assert unfrozen(later) == len(later), "something froze from inside the collector"
    assert policy.freeze_if_collected()
    assert alive() is None
    assert unfrozen(later) == 0, "the loop did not freeze the survivors"
    assert not policy.freeze_if_collected()


def test_the_background_task_freezes_at_once_and_looks_on_schedule(policy, monkeypatch):
    async def run_briefly() -> int:
        looked = asyncio.Event()
        looks = []

        def look() -> bool:
            looks.append(1)
            if len(looks) >= 2:
                looked.set()
            return False

        monkeypatch.setattr(policy, "freeze_if_collected", look)
        task = asyncio.ensure_future(policy.run(interval=0.01))
        await asyncio.wait_for(looked.wait(), 5)
        task.cancel()
        return len(looks)

    assert asyncio.run(run_briefly()) >= 2
    assert policy.seen >= 0 and gc.get_freeze_count() > 0
