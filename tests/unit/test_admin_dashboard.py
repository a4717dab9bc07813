"""The admin dashboard's warnings, without a hub: little disk left, Swarm nodes down or the
manager silent, lab-hour quotas used up (the counts and the page: tests/inprocess)."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from portal.admin import dashboard
from portal.platform.errors import DockerUnavailable

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

GIB = 1024**3


def with_disk(monkeypatch, total: int, free: int) -> None:
    monkeypatch.setattr(dashboard.shutil, "disk_usage",
                        lambda path: shutil._ntuple_diskusage(total, total - free, free))


def test_little_disk_left_is_a_warning_by_share_or_by_bytes(monkeypatch):
    with_disk(monkeypatch, 100 * GIB, 50 * GIB)
    assert dashboard.disk_alert("/data") is None
    with_disk(monkeypatch, 100 * GIB, 9 * GIB)  # under a tenth
    alert = dashboard.disk_alert("/data")
    assert alert is not None and alert.about == "disk"
    assert "9 GiB free of 100 GiB" in alert.words, alert.words
    with_disk(monkeypatch, 10 * GIB, GIB + 1)  # over a tenth, under 2 GiB
    assert dashboard.disk_alert("/data") is not None


def test_an_unreadable_disk_says_so(monkeypatch):
    def refuse(path: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(dashboard.shutil, "disk_usage", refuse)
    alert = dashboard.disk_alert("/data")
    assert alert is not None and "cannot read the free space of /data" in alert.words


async def test_swarm_nodes_down_and_a_silent_manager():
    assert await dashboard._swarm_alerts(None) == []

    async def two_down() -> list[str]:
        return ["node-b", "node-c"]

    alerts = await dashboard._swarm_alerts(two_down)
    assert [a.words for a in alerts] == [
        "Swarm node node-b is down: its labs cannot start.",
        "Swarm node node-c is down: its labs cannot start."]

    async def silent() -> list[str]:
        raise DockerUnavailable("connection refused")

    (alert,) = await dashboard._swarm_alerts(silent)
    assert alert.about == "swarm" and "does not answer: connection refused" in alert.words


def test_used_up_quotas_name_a_few_and_count_the_rest():
    def runtime(names: list[str]) -> SimpleNamespace:
        return SimpleNamespace(quotas=SimpleNamespace(used_up=lambda: dict.fromkeys(names, "")))

    assert dashboard._quota_alert(runtime([])) is None
    alert = dashboard._quota_alert(runtime(["bo"]))
    assert alert is not None and alert.slug == "insights"
    assert alert.words.startswith("1 user used up")
    alert = dashboard._quota_alert(runtime([f"u{i}" for i in range(7)]))
    assert alert is not None and "u0, u1, u2, u3, u4 and 2 more" in alert.words
