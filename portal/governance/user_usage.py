"""Owns a user's live usage over all their running servers, default and named: the samples of
each server (kept apart by the collector) added up for the places that show one line a user
(the admin's user table, the user's own usage in Insights).
"""

from __future__ import annotations

from collections.abc import Iterable

from .usage import LabUsage, UsageCollector


def combined(samples: list[LabUsage]) -> LabUsage | None:
    """Several servers' samples as one: CPUs and memory added up (unknown while any of them is
    unknown), limits added up (none while any server has none), each volume once, the oldest
    sample's time (so a stale server makes the line stale)."""
    if not samples:
        return None
    if len(samples) == 1:
        return samples[0]
    cpus = [s.cpus for s in samples]
    memory = [s.memory for s in samples]
    limits = [s.memory_limit for s in samples]
    volumes: dict[str, int | None] = {}
    for sample in samples:
        volumes.update(sample.volumes)  # home and cache are in every server: the same key
    return LabUsage(cpus=None if None in cpus else sum(c for c in cpus if c is not None),
                    memory=None if None in memory else sum(m for m in memory if m is not None),
                    memory_limit=0 if 0 in limits else sum(limits), volumes=volumes,
                    at=min(s.at for s in samples))


def user_usage(collector: UsageCollector, user: str, servers: Iterable[str]) -> LabUsage | None:
    """The user's usage over the running servers named (`""`: the default one)."""
    return combined([sample for server in servers
                     if (sample := collector.get(user, server)) is not None])
