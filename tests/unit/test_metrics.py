"""The portal's Prometheus metrics, moved by the services that record each event, on the
registry JupyterHub serves; the running labs' gauges read the usage pass's totals (no Docker on
a scrape). The Grafana dashboard's queries are checked in test_grafana_dashboard.py."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from portal.auth.passwords import PasswordChecks
from portal.auth.throttle import SignInThrottle
from portal.broadcast.results import Delivery
from portal.governance.cull_policy import CullPolicy, CullPolicyStore
from portal.governance.culling import Culler
from portal.governance.usage import ONE_ENGINE, Lab, LabUsage, UsageCollector
from portal.insights.history import UsageHistory
from portal.insights.quotas import QuotaService
from portal.platform import metrics
from portal.platform.errors import ActionRefused

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

MIB = 1024**2


class Engine:
    """A Docker engine whose running containers use some memory (name -> bytes)."""

    def __init__(self, running: dict[str, int]) -> None:
        self.running, self.calls = running, 0

    async def stats_in_bulk(self, names: list[str]) -> None:
        return None  # a hub that cannot read the host's cgroup files: one call per lab

    async def stats_once(self, name: str) -> dict:
        self.calls += 1
        return {"memory_stats": {"usage": self.running[name], "limit": 512 * MIB, "stats": {}},
                "cpu_stats": {"cpu_usage": {"total_usage": 1}, "system_cpu_usage": 1,
                              "online_cpus": 1}}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_portal_series_has_help_and_the_prefix():
    families = [f for f in REGISTRY.collect() if f.name.startswith("dshub_")]
    assert {f.name for f in families} >= {
        "dshub_broadcasts", "dshub_broadcast_deliveries", "dshub_signins_throttled",
        "dshub_culls", "dshub_quota_refusals", "dshub_quota_warnings", "dshub_lab_seconds",
        "dshub_lab_cpu_seconds", "dshub_running_labs", "dshub_lab_cpus",
        "dshub_lab_memory_bytes"}
    assert all(len(f.documentation) > 20 for f in families)
    # Labelled counters exist at zero before their first event (rate() sees them).
    assert REGISTRY.get_sample_value("dshub_culls_total", {"event": "stopped"}) is not None


async def test_the_running_labs_gauges_are_the_last_passs_totals():
    engine = Engine({"a": 100 * MIB, "b": 200 * MIB, "c": 50 * MIB})
    collector = UsageCollector(engine, interval=5)  # type: ignore[arg-type]
    labs = [Lab("ann", "a", image="lab:1"), Lab("bo", "b", image="lab:1"),
            Lab("cy", "c", image="gpu:2", node="node-2")]
    await collector.collect(labs)
    metrics.watch_labs(lambda: collector.totals)
    engine.calls = 0
    assert value("dshub_running_labs", environment="lab:1", node=ONE_ENGINE) == 2
    assert value("dshub_running_labs", environment="gpu:2", node="node-2") == 1
    assert value("dshub_lab_memory_bytes", environment="lab:1", node=ONE_ENGINE) == 300 * MIB
    assert engine.calls == 0  # a scrape reads memory only
    await collector.collect(labs[:1])  # two stopped: their series go at the next pass
    assert value("dshub_running_labs", environment="lab:1", node=ONE_ENGINE) == 1
    assert REGISTRY.get_sample_value("dshub_running_labs",
                                     {"environment": "gpu:2", "node": "node-2"}) is None
    metrics.watch_labs(dict)


def test_the_usage_counters_add_what_the_history_counts():
    history = UsageHistory(None, interval=5, clock=lambda: 1010.0)  # type: ignore[arg-type]
    lab, cpu = value("dshub_lab_seconds_total"), value("dshub_lab_cpu_seconds_total")
    history.observe([("ann", LabUsage(cpus=None, memory=MIB, memory_limit=0, at=1000.0))])
    history.observe([("ann", LabUsage(cpus=0.5, memory=MIB, memory_limit=0, at=1010.0))])
    history.observe([("ann", LabUsage(cpus=0.5, memory=MIB, memory_limit=0, at=1010.0))])
    assert value("dshub_lab_seconds_total") - lab == pytest.approx(10.0)
    assert value("dshub_lab_cpu_seconds_total") - cpu == pytest.approx(5.0)


async def test_throttled_and_busy_sign_ins_are_counted():
    checks = PasswordChecks(SignInThrottle(free_failures=0), refusal_pause=0.0)
    checks.failed("127.0.0.9", "ann")
    throttled = value("dshub_signins_throttled_total", reason="throttled")
    assert await checks.refused("127.0.0.9", "ann")
    assert value("dshub_signins_throttled_total", reason="throttled") == throttled + 1
    busy = value("dshub_signins_throttled_total", reason="busy")
    checks.in_flight = checks.max_in_flight
    with pytest.raises(ActionRefused):
        await checks.hash("a password")
    assert value("dshub_signins_throttled_total", reason="busy") == busy + 1


def test_a_quota_refusal_is_counted_once_per_refused_start():
    quotas = QuotaService(None, None)  # type: ignore[arg-type]
    quotas._refusals = {"ann": "You have used your lab hours"}
    before = value("dshub_quota_refusals_total", quota="lab_hours")
    assert quotas.start_refusal("ann") and quotas.start_refusal("bo") is None
    assert value("dshub_quota_refusals_total", quota="lab_hours") == before + 1


async def test_idle_culling_counts_its_warnings_keeps_and_stops():
    class Audit:
        async def record(self, *event, ok: bool = True) -> None:
            pass

        async def record_many(self, entries: list) -> list:
            return []

    class Broadcaster:
        async def credentials(self, db, targets):
            return str

        async def notify_each(self, messages, credential) -> list[Delivery]:
            return [Delivery(target.user, True, "delivered") for target, _ in messages]

    async def stop_idle(user, server, hub_stop) -> None:
        pass

    spawner = SimpleNamespace(ready=True, pending=None, server=SimpleNamespace(url="/user/ann/"),
                              orm_spawner=SimpleNamespace(last_activity=datetime(2026, 12, 1)))
    ann = SimpleNamespace(name="ann", spawner=spawner)
    on = CullPolicy(idle_after=3600.0, warning=600.0, keep_max=3600.0, exempt=())
    policy = CullPolicyStore(None, None, on)  # type: ignore[arg-type]
    culler = Culler(policy, None, Audit(), Broadcaster(), stop_idle)  # type: ignore[arg-type]
    app = SimpleNamespace(users={"ann": ann}, db=None)
    before = {event: value("dshub_culls_total", event=event)
              for event in ("warned", "kept", "stopped")}
    await culler._warn_all(app, [("ann", 1e10)])
    await culler.keep_running(ann, "ann")  # type: ignore[arg-type]
    await culler._cull(app, "ann")
    for event, count in before.items():
        assert value("dshub_culls_total", event=event) == count + 1, event
