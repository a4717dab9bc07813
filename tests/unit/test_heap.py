"""The hub's collection policy: survivors of a full collection are frozen, garbage is not."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from portal import heap


class Node:
    pass


@pytest.fixture
def policy() -> Iterator[None]:
    heap.freeze_survivors()
    yield
    gc.callbacks.remove(heap._freeze_after_full_collection)
    gc.unfreeze()


def test_survivors_of_a_full_collection_are_frozen_and_garbage_is_not(policy):
    kept = [Node() for _ in range(1000)]
    dropped = Node()
    dropped.self = dropped  # a cycle: only a collection can free it
    alive = weakref.ref(dropped)
    del dropped
    before = gc.get_freeze_count()
    gc.collect()
    assert alive() is None, "the garbage cycle was frozen instead of collected"
    assert gc.get_freeze_count() >= before + len(kept)
    # Frozen objects are still freed by reference counting.
    probe = weakref.ref(kept[0])
    kept.clear()
    assert probe() is None


def test_setting_up_twice_registers_one_callback(policy):
    heap.freeze_survivors()
    assert gc.callbacks.count(heap._freeze_after_full_collection) == 1
