"""Limits: size and CPU parsing, the highest-value rule, what the create call gets."""

from __future__ import annotations

import pytest

from portal.governance.lab_exits import exit_reason
from portal.governance.limits import (
    GroupLimit,
    Limits,
    effective,
    human_size,
    parse_cpus,
    parse_memory,
)
from portal.lab.container_policy import enforce_host_config
from portal.platform import settings_parsers as parsers
from portal.platform.errors import ActionRefused
from portal.platform.settings import SettingsError, load_settings

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

GIB = 1024**3


@pytest.mark.parametrize(("raw", "expected"), [
    ("4G", 4 * GIB), ("1.5g", int(1.5 * GIB)), ("512M", 512 * 1024**2), ("2GiB", 2 * GIB),
    ("268435456", 256 * 1024**2), (" 1T ", 1024 * GIB),
])
def test_sizes_are_read_as_docker_does(raw, expected):
    assert parsers.size(raw) == expected


@pytest.mark.parametrize("raw", ["-1G", "lots", "4X", "", "1M", "0", "G"])
def test_bad_sizes_are_refused(raw):
    with pytest.raises(ValueError):
        parsers.size(raw)


def test_cpus_within_the_host(monkeypatch):
    monkeypatch.setattr(parsers, "host_cpus", lambda: 4)
    assert parsers.cpus("1.5") == 1.5
    assert parsers.cpus("4") == 4
    for bad in ("0", "-1", "4.5", "nan", "x", "inf"):
        with pytest.raises(ValueError):
            parsers.cpus(bad)


def test_environment_defaults_are_validated():
    s = load_settings({"LAB_MEMORY_LIMIT": "2G", "LAB_CPU_LIMIT": "1"})
    assert (s.lab_memory, s.lab_cpus) == (2 * GIB, 1.0)
    with pytest.raises(SettingsError, match="LAB_MEMORY_LIMIT='-2G' is not valid"):
        load_settings({"LAB_MEMORY_LIMIT": "-2G"})
    with pytest.raises(SettingsError, match="LAB_CPU_LIMIT"):
        load_settings({"LAB_CPU_LIMIT": str(parsers.host_cpus() + 1)})


def test_highest_value_wins_and_no_limit_beats_all():
    default = Limits(2 * GIB, 1.0)
    a, b = GroupLimit("a", 4 * GIB, 0.5), GroupLimit("b", 8 * GIB, None)
    assert effective(default, []) == default
    assert effective(default, [a]) == Limits(4 * GIB, 0.5)  # lower than default CPU: applies
    assert effective(default, [a, b]) == Limits(8 * GIB, 0.5)
    assert effective(default, [a, GroupLimit("c", 0, 0)]) == Limits(None, None)
    assert effective(Limits(), [GroupLimit("d", None, 2.0)]) == Limits(None, 2.0)


def test_group_input_words():
    assert parse_memory("default") is None and parse_memory(None) is None
    assert parse_memory("none") == 0 and parse_cpus("No limit") == 0
    assert parse_memory("1G") == GIB and parse_cpus(1) == 1.0
    for bad_memory in ("-5G", "many", True, [1]):
        with pytest.raises(ActionRefused) as e:
            parse_memory(bad_memory)
        assert e.value.status == 400
    with pytest.raises(ActionRefused, match="this host's CPU count"):
        parse_cpus(parsers.host_cpus() + 1)


def test_create_call_gets_memory_without_swap_and_a_cpu_quota():
    host = {"CpuQuota": 50000, "CpuPeriod": 100000, "Memory": 1}
    enforce_host_config(host, docker_socket=False, privileged=False, gpu=False,
                        memory=256 * 1024**2, cpus=1.5)
    assert host["Memory"] == host["MemorySwap"] == 256 * 1024**2
    assert host["NanoCpus"] == 1_500_000_000 and "CpuQuota" not in host
    enforce_host_config(host, docker_socket=False, privileged=False, gpu=False)
    assert host["Memory"] == host["MemorySwap"] == host["NanoCpus"] == 0


def test_words():
    assert human_size(2 * GIB) == "2 GiB" and human_size(256 * 1024**2) == "256 MiB"
    assert Limits(2 * GIB, 1.5).words() == "2 GiB memory, 1.5 CPUs"
    assert exit_reason(True, 137, 2 * GIB) == "stopped: it ran out of memory (limit 2 GiB)"
