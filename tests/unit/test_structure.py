"""The shape the code keeps: layered subpackages, no import cycle, small modules that say what
they own, docs in step."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import grimp
import pytest

from portal.platform.settings import markdown_table

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "portal").rglob("*.py"))
MAX_LINES = 260  # "about 250": a module past this wants splitting by concern
# The parts of `portal` (its subpackages, and the modules beside `portal/__init__.py`), bottom
# first. A part imports only parts of the layers below its own: never a part of its own layer,
# never one above. `portal/__init__.py` (`setup(c)`, handing over to hub_setup) sits on top.
# A new part must be placed here (docs/architecture.md draws the same picture).
LAYERS: list[tuple[str, ...]] = [
    ("platform",),  # settings, errors, logs, tasks, the hub's internals, TLS, logo, health
    ("docker", "store"),  # the one path to Docker; the portal's own database
    ("audit",),  # the one event log
    ("auth", "access", "operations", "broadcast"),  # sign-in; host power; servers' state; sends
    ("compat", "lab"),  # JupyterHub lines; the lab spawner
    ("swarm", "governance"),  # Swarm mode; limits, usage, culling, GPUs
    ("insights",),  # usage over time: rollups, their rows, reports, charts
    ("runtime",),  # what handlers and services share
    ("servers", "volumes"),  # server actions and card; a user's volumes
    ("admin",),  # accounts, the user table, bulk actions
    ("views", "runtime_factory"),  # the web layer; building the runtime
    ("hub_setup",),  # setup(c): registers all of it with the hub
]
RANK = {part: rank for rank, layer in enumerate(LAYERS) for part in layer}


def _part(module: str) -> str:
    """`portal.lab.spawner` -> "lab"; `portal` itself -> "" (the top)."""
    return module.split(".")[1] if "." in module else ""


def layer_violations(graph: grimp.ImportGraph) -> list[str]:
    """Imports from a part to one of its own layer or above, and parts no layer places."""
    found = []
    for module in sorted(graph.modules):
        importer = _part(module)
        if importer and importer not in RANK:
            found.append(f"{module}: part {importer!r} is in no layer")
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            target = _part(imported)
            if not importer or target == importer:
                continue
            if target not in RANK or RANK[target] >= RANK[importer]:
                found.append(f"{module} -> {imported}")
    return found


def test_each_part_imports_only_layers_below_it():
    assert layer_violations(grimp.build_graph("portal")) == []


def test_every_part_of_portal_has_a_layer():
    parts = {p.stem if p.suffix == ".py" else p.name for p in (ROOT / "portal").iterdir()
             if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").exists()}
    assert parts == set(RANK)


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


def test_the_spawners_are_composed_not_mixed_in():
    """Each spawner subclasses the hub's plug-in point and nothing else: what it uses (volume
    names, ports, placement, where its lab lives) are objects it holds, not base classes."""
    from dockerspawner import DockerSpawner, SwarmSpawner

    from portal.lab.spawner import PortalSpawner
    from portal.swarm.spawner import PortalSwarmSpawner

    assert PortalSpawner.__bases__ == (DockerSpawner,)
    assert PortalSwarmSpawner.__bases__ == (PortalSpawner, SwarmSpawner)


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


def test_what_the_card_loads_inside_itself_targets_itself():
    """The card declares hx-target="this" for its buttons (each answers with the fresh card);
    htmx resolves an inherited "this" to the card, so a part that loads into itself (the start
    log, the sharing panel) must say so, or its answer replaces the whole card's content."""
    import re

    card = (ROOT / "portal" / "partials" / "server_card.html").read_text()
    loaders = re.findall(r"<div hx-get=[^>]*>", card)
    assert loaders, "the card loads nothing into itself any more: drop this test"
    for tag in loaders:
        assert 'hx-target="this"' in tag, tag
