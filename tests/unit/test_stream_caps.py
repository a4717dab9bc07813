"""The event streams' caps (per user and per hub) and their release; the per-user cap is
attacked on a real hub in tests/integration/test_session_limits.py."""

from __future__ import annotations

import pytest

from portal.operations.in_flight import Operations
from portal.operations.live_updates import MAX_STREAMS, MAX_STREAMS_PER_USER, LiveUpdates
from portal.platform.errors import ActionRefused

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


def test_defaults_are_generous_for_people_and_bounded_for_scripts():
    assert 4 <= MAX_STREAMS_PER_USER <= 16 and MAX_STREAMS >= 100 * MAX_STREAMS_PER_USER


def test_one_user_is_capped_and_a_closed_stream_frees_its_place():
    live = LiveUpdates(Operations(), per_user=2, most=100)
    first, _ = live.subscribe("mallory", False), live.subscribe("mallory", False)
    with pytest.raises(ActionRefused) as refused:
        live.subscribe("mallory", False)
    assert refused.value.status == 429 and "event streams open" in refused.value.message
    live.subscribe("alice", False)  # others are not held up
    live.unsubscribe(first)
    live.unsubscribe(first)  # twice (close + cleanup) counts once
    live.subscribe("mallory", False)
    with pytest.raises(ActionRefused):
        live.subscribe("mallory", False)


def test_the_hub_wide_cap_holds_against_many_users():
    live = LiveUpdates(Operations(), per_user=5, most=3)
    streams = [live.subscribe(f"user{i}", False) for i in range(3)]
    with pytest.raises(ActionRefused) as refused:
        live.subscribe("user9", True)
    assert refused.value.status == 429
    live.unsubscribe(streams[0])
    live.subscribe("user9", True)
    assert live.streams == 3
