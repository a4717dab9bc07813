"""Owns the hub's garbage-collection policy: a full collection walks only what is new.

A full (generation-2) collection walks every tracked object that is not frozen. A hub with
thousands of users holds hundreds of thousands of long-lived objects (users, spawners and their
traits, ORM rows), most of them made after start as people sign in and servers start; each full
collection then held the event loop for 100-250 ms, during a broadcast or a usage pass
(docs/benchmarks.md, sections 3 and 10). So the survivors of the start-up and of every full
collection are frozen (`gc.freeze`): the next full collection walks only the objects made since.

The price, accepted: a reference cycle among frozen objects that becomes garbage later is never
reclaimed (reference counting still frees everything that is not in a cycle). The hub keeps its
users and spawners for its whole life, so little of that ever happens.
"""

from __future__ import annotations

import gc
from typing import Any


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    # "stop" of a generation-2 collection: every generation was just collected, so what is
    # tracked now is exactly what survived.
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def freeze_survivors() -> None:
    """Collect once, freeze what survived, and do the same after every later full collection."""
    gc.collect()
    gc.freeze()
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)

