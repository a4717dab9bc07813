"""Owns the portal's Prometheus metrics: every `dshub_` series, declared once, on the registry
JupyterHub serves at `/hub/metrics` (prometheus_client's default one).

Counters are moved by the service that records each event (broadcasts, throttled sign-ins,
idle culls, quota refusals and warnings, usage). Gauges of the running labs are not measured
on a scrape: they are the totals of the usage collector's last pass, which it keeps in memory
(`watch_labs`), so a scrape costs neither a Docker call nor a database query. docs/operations.md
("Metrics") describes each series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

BROADCASTS = Counter("dshub_broadcasts", "Broadcasts sent from the portal (one per send).")
BROADCAST_DELIVERIES = Counter(
    "dshub_broadcast_deliveries", "Broadcast recipients, by result: delivered into their "
    "JupyterLab, or failed (not running, no extension, unreachable).", ["result"])
SIGNINS_THROTTLED = Counter(
    "dshub_signins_throttled", "Password tries refused without a check: the address or "
    "account must wait (throttled), or too many checks were in flight (busy).", ["reason"])
CULLS = Counter("dshub_culls", "Idle culling events: a lab warned, kept running by its user, "
                "or stopped.", ["event"])
QUOTA_REFUSALS = Counter("dshub_quota_refusals", "Server starts refused by a quota.", ["quota"])
QUOTA_WARNINGS = Counter(
    "dshub_quota_warnings", "Warnings sent into a running JupyterLab because its user went past "
    "a soft quota, by result (delivered or failed).", ["quota", "result"])
LAB_SECONDS = Counter("dshub_lab_seconds", "Seconds of lab time, as the usage history counts "
                      "it (the time between two samples of a running lab).")
LAB_CPU_SECONDS = Counter("dshub_lab_cpu_seconds", "CPU seconds the labs used, as the usage "
                          "history counts them.")

# Every label value a counter takes, at zero from the start: rate() and the dashboard see the
# series before the first event.
for _result in ("delivered", "failed"):
    BROADCAST_DELIVERIES.labels(_result)
    QUOTA_WARNINGS.labels("storage", _result)
for _reason in ("throttled", "busy"):
    SIGNINS_THROTTLED.labels(_reason)
for _event in ("warned", "kept", "stopped"):
    CULLS.labels(_event)
QUOTA_REFUSALS.labels("lab_hours")


@dataclass(frozen=True)
class LabTotals:
    """Running labs of one environment (image) on one node, and what they used when sampled."""

    labs: int = 0
    cpus: float = 0.0  # CPUs busy
    memory: int = 0  # bytes in use

    def plus(self, cpus: float | None, memory: int | None) -> LabTotals:
        return LabTotals(self.labs + 1, self.cpus + (cpus or 0.0), self.memory + (memory or 0))


# (environment, node) -> totals
LabSource = Callable[[], Mapping[tuple[str, str], LabTotals]]
_GAUGES = (
    ("dshub_running_labs", "Running labs, by environment (image) and node, as of the last "
     "usage pass.", lambda t: t.labs),
    ("dshub_lab_cpus", "CPUs busy in running labs (sum of their last samples).",
     lambda t: t.cpus),
    ("dshub_lab_memory_bytes", "Memory in use by running labs (sum of their last samples), in "
     "bytes.", lambda t: t.memory),
)


class LabGauges(Collector):
    """Reads the totals the usage collector kept; registered once per process (a process may
    build several hubs' runtimes, in tests: the last one watched is reported)."""

    def __init__(self) -> None:
        self.source: LabSource = dict

    def collect(self) -> Iterator[Metric]:
        totals = self.source()
        for name, help_text, value in _GAUGES:
            family = GaugeMetricFamily(name, help_text, labels=["environment", "node"])
            for (environment, node), figures in sorted(totals.items()):
                family.add_metric([environment, node], value(figures))
            yield family

    def describe(self) -> Iterator[Metric]:
        # Names only: registering never calls collect().
        for name, help_text, _ in _GAUGES:
            yield GaugeMetricFamily(name, help_text, labels=["environment", "node"])


LAB_GAUGES = LabGauges()
REGISTRY.register(LAB_GAUGES)


def watch_labs(source: LabSource) -> None:
    """Report `source()` as the running labs' gauges from now on."""
    LAB_GAUGES.source = source
