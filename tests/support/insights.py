"""Usage history as tests seed and read it: rollups written straight to a hub's store."""

from __future__ import annotations

import time

from portal.insights.rollup_rows import write_hourly
from portal.insights.rollups import GIB, HOUR, Rollup, hour_of
from portal.store.database import PortalStore


def runtime_of(hub):
    return hub.app.tornado_settings["dshub_portal"]


def seed(hub, user: str, hours_ago: int, **figures) -> None:
    """One hourly rollup of `user`'s default server, `hours_ago` whole hours before this one."""
    runtime = runtime_of(hub)
    start = hour_of(time.time()) - hours_ago * HOUR
    records = {(user, "", start): Rollup(samples=1, **figures)}
    hub.run(runtime.store.run(write_hourly, runtime.store, records))


def insights_api(portal, table: str, **params):
    return portal.s.get(portal.url(f"portal/api/insights/{table}"), params=params, timeout=30,
                        headers={"X-XSRFToken": portal.xsrf})


def seed_history(hub, users: list[str], days: int = 7) -> None:
    """`days` of varied hourly rollups for `users`, written into a real hub's SQLite store as
    its own writes are (blocking: a Playwright test holds this thread's event loop)."""
    store = PortalStore(f"sqlite:///{hub.data_dir}/portal.sqlite")
    now, records = hour_of(time.time()), {}
    for n, user in enumerate(users):
        for hours_ago in range(0, days * 24, 5 + n % 7):
            busy = ((hours_ago * 7 + n * 13) % 10) / 10
            records[(user, "", now - hours_ago * HOUR)] = Rollup(
                lab_seconds=HOUR * (0.3 + 0.7 * busy), cpu_seconds=HOUR * busy * (n % 4 + 1) / 2,
                memory_gib_hours=busy * (n % 4 + 1), memory_peak=int((0.5 + busy) * GIB),
                memory_limit=4 * GIB, storage=(n % 4 + 1) * GIB, volumes={
                    "home": GIB // 4, "workspace": (n % 4 + 1) * GIB - GIB // 2,
                    "cache": GIB // 4},
                samples=120)
    write_hourly(store, records)
