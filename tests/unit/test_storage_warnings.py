"""The storage soft quota's warning in the lab: one per crossing, none while the user stays
past it, another only after a pass found them back under; audited and counted. Stand-ins for
the broadcaster and the hub (a real lab receives it in tests/integration/test_metrics.py)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from portal.broadcast.results import Delivery
from portal.governance.usage import LabUsage
from portal.insights.quotas import QuotaService
from portal.insights.rollups import GIB
from portal.insights.storage_warnings import StorageWarnings

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


class Broadcaster:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def credentials(self, db, targets):
        return lambda user: f"token-of-{user}"

    async def notify(self, target, payload, credential) -> Delivery:
        self.sent.append((target.user, payload))
        return Delivery(target.user, target.url is not None, "delivered")


class Audit:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    async def record(self, *event, ok: bool = True) -> None:
        self.events.append((*event, ok))


class Users(dict):
    db = None


class Spawner:
    ready, pending = True, None

    class server:  # noqa: N801 (the hub's attribute)
        url = "/user/ann/"


class User:
    def __init__(self, name: str) -> None:
        self.name, self.spawner = name, Spawner()
        self.spawners = {"": self.spawner}


def usage(**volumes: int | None) -> LabUsage:
    return LabUsage(cpus=None, memory=None, memory_limit=0, volumes=volumes)


async def test_one_warning_per_crossing():
    quotas = QuotaService(None, None)  # type: ignore[arg-type]
    quotas._storage = {"ann": GIB, "bo": GIB}
    warnings = StorageWarnings(quotas, Broadcaster(), Audit())  # type: ignore[arg-type]
    warnings.observe({"ann": usage(home=GIB, cache=1), "bo": usage(home=GIB // 2),
                      "cy": usage(home=9 * GIB)})  # cy has no quota
    warnings.observe({"ann": usage(home=2 * GIB)})  # still past it: not again
    warnings.observe({"ann": usage(home=None)})  # sizes unknown: neither over nor under
    assert warnings.warned == {"ann"} and warnings._due.qsize() == 1
    warnings.observe({"ann": usage(home=GIB)})  # back under (at the quota is not past it)
    warnings.observe({"ann": usage(home=GIB + 1)})
    assert warnings._due.qsize() == 2


async def test_the_warning_goes_into_the_lab_audited_and_counted():
    broadcaster, audit = Broadcaster(), Audit()
    warnings = StorageWarnings(None, broadcaster, audit)  # type: ignore[arg-type]
    app = type("App", (), {"users": Users(ann=User("ann")), "db": None})()
    before = REGISTRY.get_sample_value("dshub_quota_warnings_total",
                                       {"quota": "storage", "result": "delivered"})
    assert await warnings.warn(app, "ann", 3 * GIB, 2 * GIB)
    assert not await warnings.warn(app, "gone", 3 * GIB, 2 * GIB)  # deleted meanwhile
    ((user, payload),) = broadcaster.sent
    assert user == "ann" and payload["type"] == "warning" and not payload["autoClose"]
    assert payload["message"].startswith("Your volumes hold 3 GiB, more than your storage "
                                         "quota of 2 GiB")
    ((actor, kind, target, detail, ok),) = audit.events
    assert (actor, kind, target, ok) == ("(hub)", "quota warning", "ann", True)
    assert "told in the lab (delivered)" in detail
    assert REGISTRY.get_sample_value("dshub_quota_warnings_total", {
        "quota": "storage", "result": "delivered"}) == before + 1
