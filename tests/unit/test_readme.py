"""The README says what the code does: the figures it quotes (its configuration table is
checked in test_structure.py)."""

from __future__ import annotations

import pytest

from portal.broadcast.broadcaster import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from portal.broadcast.message import MAX_GRAPHEMES
from tests.support.hub import ROOT

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

README = (ROOT / "README.md").read_text()


def test_broadcast_figures():
    assert f"at most {DEFAULT_CONCURRENCY} at a time" in README
    assert f"bounded by {DEFAULT_TIMEOUT:g} seconds" in README
    assert f"at most {MAX_GRAPHEMES} characters" in README
