"""Owns the settings of wave-2 features: audit, accounts, sign-in, limits, culling, Swarm.

Declared like the others (portal/platform/settings.py); `Settings` inherits these fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import settings_parsers as parsers
from .settings_choices import DeletedUserVolumes
from .settings_schema import setting


@dataclass(frozen=True)
class FeatureSettings:
    audit_retention_days: int = setting(
        "AUDIT_RETENTION_DAYS", "365", "a whole number of days; 0 keeps every event",
        "How long the audit (Portal -> Admin -> Audit) keeps events; older ones are deleted "
        "hourly.",
        parsers.whole_number,
    )
    deleted_user_volumes: DeletedUserVolumes = setting(
        "DELETED_USER_VOLUMES", "remove",
        "remove or archive",
        "What deleting an account does to its volumes: `remove` deletes them; `archive` keeps a "
        "copy, listed in the portal's admin area with Restore and Delete. Either way a new "
        "account of the same name starts empty.",
        parsers.deleted_user_volumes,
    )
    subdomain_host: str = setting(
        "JUPYTERHUB_SUBDOMAIN_HOST", "",
        "empty, or the hub's public origin such as https://hub.example.org or "
        "http://localhost:8000 (a host name, no path)",
        "Serves each user's JupyterLab on an origin of its own, `<user>.<host>`, so code in a lab "
        "cannot act in the portal as an admin who opens it. Needs wildcard DNS and a certificate "
        "for `*.<host>` (the generated ones include it). `make dev` uses `http://localhost:8000`.",
        parsers.origin,
    )
    sudo_minutes: int = setting(
        "SUDO_MODE_MINUTES", "5",
        "a whole number of minutes, 0 to 1440",
        "Granting host power (adding to `docker-sock` / `docker-privileged`, making an admin, "
        "a token made with a browser session) asks for the admin's password again unless they "
        "confirmed it within this many minutes in the same session; `0`: every time.",
        parsers.minutes,
    )
    max_pending_signups: int = setting(
        "SIGNUP_MAX_PENDING", "50", "a whole number from 1 to 100000",
        "Sign-ups waiting for approval at most; further ones are refused until admins approve "
        "or reject some.",
        parsers.count(1, 100_000),
    )
    event_streams_max: int = setting(
        "EVENT_STREAMS_MAX", "2000", "a whole number from 1 to 100000",
        "Open event streams (pushed card and table updates) the hub keeps at most, for everyone "
        "together; one more is refused with 429 and its page falls back to polling. Each user "
        "may hold 8 at most.",
        parsers.count(1, 100_000),
    )
    tls_proxy: bool = setting(
        "JUPYTERHUB_TLS_PROXY", "0", "0 or 1",
        "`1`: a TLS-terminating reverse proxy (compose.yml's Traefik, which sets it) is in front "
        "of the hub: cookies are Secure and sign-in throttling uses the client address that "
        "proxy reports.",
        parsers.flag,
    )
    lab_memory: int | None = setting(
        "LAB_MEMORY_LIMIT", "",
        "empty (no limit), or a size such as 512M, 4G or 1.5G (K, M, G, T: powers of 1024; "
        "at least 64M)",
        "Memory limit of every lab, without extra swap; groups may have their own (admin area, "
        "[Limits](#limits-usage-and-idle-culling)). Applies at each lab's next start.",
        parsers.optional_size,
    )
    lab_cpus: float | None = setting(
        "LAB_CPU_LIMIT", "",
        "empty (no limit), or a number of CPUs such as 1.5, at most the host's CPU count",
        "CPU limit of every lab (a quota: the lab may use this many CPUs' worth of time); "
        "groups may have their own. Applies at each lab's next start.",
        parsers.optional_cpus,
    )
    named_servers_max: int = setting(
        "NAMED_SERVERS_MAX", "0", "a whole number from 0 to 100",
        "How many named servers (besides the default one) each user may have; groups may have "
        "their own maximum (admin area, [Limits](#limits-usage-and-idle-culling)), a member gets "
        "the highest. `0`: only the default server.",
        parsers.count(0, 100),
    )
    usage_interval: float = setting(
        "LAB_USAGE_INTERVAL", "30s",
        "a duration such as 15s or 1m (at least 5s)",
        "How often the hub samples CPU and memory of running labs: from their cgroup files "
        "after one container listing (`DOCKER_CGROUP_ROOT`), else one Docker call per lab, a "
        "few at a time, at most 25 a second (past 750 running labs a pass takes longer); "
        "volume sizes are sampled every tenth time.",
        parsers.at_least(5.0, parsers.duration),
    )
    usage_hourly_days: int = setting(
        "USAGE_HOURLY_DAYS", "31", "a whole number of days from 1 to 3660",
        "How long the usage history keeps hourly rollups (per user's server: lab hours, CPU, "
        "memory, storage, GPU); older hours live on in their UTC day's rollup.",
        parsers.count(1, 3660),
    )
    usage_history_days: int = setting(
        "USAGE_HISTORY_DAYS", "730", "a whole number of days; 0 keeps every rollup",
        "How long the usage history (Portal -> Admin -> Insights, each user's own usage) keeps "
        "rollups; older ones are deleted daily.",
        parsers.whole_number,
    )
    usage_flush_interval: float = setting(
        "USAGE_FLUSH_INTERVAL", "1m", "a duration such as 30s or 5m (at least 5s)",
        "How often the usage rollups gathered in memory are written to the portal's store (in "
        "one transaction, off the event loop); also written when the hub stops.",
        parsers.at_least(5.0, parsers.duration),
    )
    idle_cull_after: float = setting(
        "IDLE_CULL_AFTER", "0",
        "0 (off), or a duration such as 45m, 8h or 2d",
        "Labs without activity for this long are stopped (kernels, terminals and browser "
        "traffic, as the hub tracks them). Admins can change it in the portal.",
        parsers.duration,
    )
    idle_cull_warning: float = setting(
        "IDLE_CULL_WARNING", "30m",
        "a duration such as 15m",
        "How long before an idle stop the user's JupyterLab shows a warning.",
        parsers.duration,
    )
    idle_keep_max: float = setting(
        "IDLE_CULL_KEEP_MAX", "8h",
        "a duration such as 4h",
        "The most \"Keep running\" on the card can postpone an idle stop (counted from the press).",
        parsers.duration,
    )
    idle_exempt_groups: tuple[str, ...] = setting(
        "IDLE_CULL_EXEMPT_GROUPS", "",
        "empty, or group names separated by commas",
        "Members of these groups are never stopped for being idle.",
        parsers.names,
    )
    swarm: bool = setting(
        "DOCKER_SWARM", "0", "0 or 1",
        "`1`: each lab is a Swarm service on a node of the swarm the hub's engine manages, pinned "
        "to the node holding the user's volumes ([docs/scale-out.md](docs/scale-out.md)).",
        parsers.flag,
    )
    docker_host: str = setting(
        "DOCKER_HOST", "", "empty, or a unix://, tcp://, ssh:// or npipe:// URL",
        "The engine the hub talks to (read by docker-py); in Swarm mode a manager's. Empty: the "
        "local socket.",
        parsers.docker_host,
    )
    docker_cgroup_root: str = setting(
        "DOCKER_CGROUP_ROOT", "/sys/fs/cgroup", "empty, or an absolute path",
        "Where the hub reads the engine host's cgroup tree (read-only): the usage sampler then "
        "reads every running lab's CPU and memory from its files after one container listing, "
        "instead of a Docker stats call per lab. The stack mounts the host's tree there; where "
        "the labs are not in it (another host, Swarm nodes) or it is empty, the stats calls.",
        parsers.optional_path,
    )
