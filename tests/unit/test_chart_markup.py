"""The Insights charts' markup for assistive technology: a chart of plain bars is one image
named by its caption; a chart whose bars link somewhere is a group of named links (links inside
an image are unreachable, and axe-core calls them nested controls: the admin walk in Chromium
found one on the Insights page)."""

from __future__ import annotations

import re

import pytest
from jinja2 import Environment, FileSystemLoader

from portal.insights.charts import columns, ranking
from tests.support.hub import ROOT

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

TEMPLATE = "{% from 'charts.html' import chart %}{{ chart(c, 'c1') }}"


def render(chart) -> str:
    env = Environment(loader=FileSystemLoader(ROOT / "portal" / "partials"), autoescape=True)
    return env.from_string(TEMPLATE).render(c=chart)


def test_plain_bars_are_one_image_named_by_the_caption():
    html = render(columns("Lab hours per day", [("01", 1.0), ("02", 2.5)], lambda v: f"{v} h"))
    assert re.search(r'<svg[^>]* role="img" aria-labelledby="c1-title"', html)
    assert "<a " not in html


def test_linked_bars_are_a_group_of_named_links():
    html = render(ranking("Top users", [("ann", 3.0, "/hub/portal/admin/users?q=ann"),
                                        ("bob", 1.0, None)], lambda v: f"{v} h"))
    assert re.search(r'<svg[^>]* role="group" aria-labelledby="c1-title"', html)
    assert 'role="img"' not in html
    # Named by the words it shows (an aria-label that differs from them fails axe's
    # label-content-name-mismatch): the user's name and figure are inside the link.
    links = re.findall(r"<a [^>]*>(.*?)</a>", html, re.S)
    assert len(links) == 1 and 'href="/hub/portal/admin/users?q=ann"' in html
    assert ">ann</text>" in links[0] and ">3.0 h</text>" in links[0]
    assert "aria-label=" not in html
