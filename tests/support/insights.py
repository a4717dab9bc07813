"""Usage history as tests seed and read it: rollups written straight to a hub's store."""

from __future__ import annotations

import time

from portal.insights.rollup_rows import write_hourly
from portal.insights.rollups import HOUR, Rollup, hour_of


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
