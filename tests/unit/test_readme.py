"""The README says what the code does: its configuration table and the figures it quotes."""

from __future__ import annotations

import re

from portal.broadcast import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, MAX_GRAPHEMES
from portal.settings import VARIABLES
from tests.support.hub import ROOT

README = (ROOT / "README.md").read_text()


def config_table() -> dict[str, str]:
    """Variable -> documented default, from the rows of the README's configuration table."""
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_*]+)` \| ([^|]*) \|", section, re.M)
    return {name: default.strip() for name, default in rows}


def test_configuration_table_lists_every_variable_with_its_default():
    table = config_table()
    assert set(table) == {v.name for v in VARIABLES} | {"ENABLE_SERVICE_*"}
    for v in VARIABLES:
        assert table[v.name] == (f"`{v.default}`" if v.default else "(empty)"), v.name


def test_broadcast_figures():
    assert f"at most {DEFAULT_CONCURRENCY} at a time" in README
    assert f"bounded by {DEFAULT_TIMEOUT:g} seconds" in README
    assert f"at most {MAX_GRAPHEMES} characters" in README
