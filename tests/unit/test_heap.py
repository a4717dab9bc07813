"""The hub's collection policy: survivors of a full collection are frozen, garbage is not, and
nothing runs from inside the collector."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from portal.platform import heap

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

    Membership, not `gc.get_freeze_count()`: other threads of a test worker (an in-process test
    hub's) free and freeze objects of their own meanwhile, and the count moves with them."""
    walked = {id(o) for o in gc.get_objects()}
    return sum(id(o) in walked for o in objects)


def test_survivors_of_the_start_are_frozen_and_garbage_is_not(policy):
    kept = [Node() for _ in range(1000)]
    alive = garbage_cycle()
    assert policy.freeze_survivors() > 0
    assert unfrozen(kept) == 0
    assert alive() is None, "the garbage cycle was frozen instead of collected"
    # Frozen objects are still freed by reference counting.
    probe = weakref.ref(kept[0])
    kept.clear()
    assert probe() is None


def test_after_a_full_collection_of_the_interpreter_the_loop_freezes_its_survivors(policy):
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
