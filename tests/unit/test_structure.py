"""The shape the code keeps: no import cycle, small modules that say what they own, docs in step."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import grimp
import pytest

from portal.platform.settings import markdown_table

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "portal").rglob("*.py"))
MAX_LINES = 260  # "about 250": a module past this wants splitting by concern


def test_no_import_cycle_inside_portal():
    graph = grimp.build_graph("portal")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join((module, *back)))
    assert cycles == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_small_and_says_what_it_owns(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert docstring.startswith("Owns "), f"first line should say what {path.name} owns"


def test_readme_configuration_table_is_the_declared_one():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("| Variable | Default |")
    table = readme[start:readme.index("\n\n", start) + 1]
    assert table == markdown_table(), (
        "README's configuration table differs from portal.platform.settings: paste "
        "`python -c 'from portal.platform.settings import markdown_table; print(markdown_table())'`"
    )


def test_htmx_trigger_events_merge():
    from portal.views.base import PortalHandler

    class Recorder(PortalHandler):
        def __init__(self) -> None:  # no request needed to exercise the header helper
            self.headers: dict[str, str] = {}

        def set_header(self, name: str, value: str) -> None:
            self.headers[name] = value

    handler = Recorder()
    handler.hx_trigger("portal:server-changed")
    handler.hx_trigger("portal:users-changed", {"count": 2})
    assert json.loads(handler.headers["HX-Trigger"]) == {
        "portal:server-changed": None, "portal:users-changed": {"count": 2}}
