"""The Grafana dashboard in the repository (grafana/dshub-dashboard.json) asks only for metrics
the hub exports: the names come from the registry JupyterHub serves at /hub/metrics, with the
portal's metrics and JupyterHub's own registered, never from a list kept here."""

from __future__ import annotations

import json
import re

import jupyterhub.metrics  # noqa: F401 (registers JupyterHub's own series, as the hub does)
from prometheus_client import REGISTRY

import portal.platform.metrics  # noqa: F401 (registers the portal's series)
from tests.support.hub import ROOT

DASHBOARD = ROOT / "grafana" / "dshub-dashboard.json"
# Words of PromQL that are not metric names (aggregations and functions are followed by "(").
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "offset", "bool", "inf", "nan"}
# The sample names each kind of family writes (a counter `x` is scraped as `x_total`).
SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": (
    "_bucket", "_sum", "_count", "_created"), "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",), "stateset": ("",), "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "unknown": ("",)}


def exported_names() -> set[str]:
    return {family.name + suffix for family in REGISTRY.collect()
            for suffix in SUFFIXES[family.type]}


def metric_names(expr: str) -> set[str]:
    """The metric names one PromQL expression reads."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges, Grafana's $__rate_interval among them
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][\w:]*", expr):
        if expr[match.end():].lstrip().startswith("(") or match.group() in KEYWORDS:
            continue
        names.add(match.group())
    return names


def queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"]
            for target in panel.get("targets", [])]


def test_the_name_reader():
    assert metric_names('sum by (node) (rate(dshub_x_total{a="b(c)"}[$__rate_interval])) '
                        '/ on(node) jupyterhub_y * 1e3') == {"dshub_x_total", "jupyterhub_y"}


def test_every_query_names_only_metrics_the_hub_exports():
    exported, found = exported_names(), queries()
    assert found, "the dashboard has no queries"
    for title, expr in found:
        names = metric_names(expr)
        assert names, f"{title}: {expr!r} names no metric"
        assert names <= exported, f"{title}: {sorted(names - exported)} are not exported"


def test_every_portal_metric_has_a_panel():
    used = {name for _, expr in queries() for name in metric_names(expr)}
    unused = [family.name for family in REGISTRY.collect() if family.name.startswith("dshub_")
              and not used & {family.name + suffix for suffix in SUFFIXES[family.type]}]
    assert unused == []
