"""axe-core in Chromium: the accessibility engine from its npm package (pinned and installed by
scripts/setup.sh --browser into .dev/axe; nothing is fetched while the tests run), injected into
a page, which fails on any serious or critical violation."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parents[2] / ".dev/axe/node_modules/axe-core/axe.min.js"
FAILING = ("serious", "critical")
RUN = """async (rules) => {
  const options = {resultTypes: ["violations"]};
  if (rules.length) options.runOnly = {type: "rule", values: rules};
  const result = await axe.run(document, options);
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" "))}));
}"""


@cache
def axe_source() -> str:
    assert AXE_JS.exists(), f"axe-core is missing: {AXE_JS} (scripts/setup.sh --browser)"
    return AXE_JS.read_text()


def violations(page: Page, rules: tuple[str, ...] = ()) -> list[str]:
    """The page's serious and critical violations, one line each (empty: it passes); `rules`:
    only these (a second theme changes colours, nothing else axe looks at)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # a global eval, not a <script>: no page policy can refuse it
        page.evaluate("source => { (0, eval)(source); }", axe_source())
    found = page.evaluate(RUN, list(rules))
    return [f"{v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}"
            for v in found if v["impact"] in FAILING]
