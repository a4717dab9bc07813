"""Hub memory: resident size of the hub process with 200 users, the portal used by 20 of them.

Stages, each measured after the step: hub started; 200 users in the database (20 of them
with passwords, through the portal's admin form; 180 through the REST API); the 20 signed in
and using the hub's own /hub/home; the 20 using the portal (page, card polls, restart dialog,
volume modal); an admin opening /hub/portal/admin/users, whose user table (first 100 rows)
comes in one fragment (/hub/portal/admin/user-table) as the page loads it. RSS of the hub's own
process (the proxy is a separate process and not counted).

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.memory [--quick]
"""

from __future__ import annotations

import argparse
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.support.clients import Portal

from .common import (
    arguments,
    bench_hub,
    create_accounts,
    create_plain_users,
    machine,
    rss_kib,
    run,
    save,
    settle,
)
from .stats import measured, table

QUICK = {"active": 2, "users": 5, "repeat": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--active", type=int, default=20)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10, help="page loads per user and stage")
    args = arguments(parser, QUICK)
    results: dict[str, Any] = {"machine": machine(), "stages": []}
    stages = results["stages"]
    with bench_hub() as hub:
        pid = hub.proc.pid

        def stage(name: str) -> None:
            settle(args, 1)
            mem = rss_kib(pid)
            stages.append({"stage": name, "rss_mib": round(mem["VmRSS"] / 1024, 1),
                           "peak_mib": round(mem["VmHWM"] / 1024, 1)})
            print(f"{name}: {stages[-1]}")

        stage("hub started (admin only)")
        admin = Portal(hub, "admin")
        active = [f"active{i:02d}" for i in range(args.active)]
        create_accounts(admin, active)
        # admin + active + plain = args.users
        create_plain_users(hub, [f"user{i:03d}" for i in range(args.users - args.active - 1)])
        assert len(hub.api("GET", "users").json()) == args.users
        stage(f"{args.users} users in the database")

        with ThreadPoolExecutor(max_workers=args.active) as pool:
            portals = list(pool.map(lambda n: Portal(hub, n), active))
            stage(f"{args.active} signed in")

            def home(p: Portal) -> None:
                for _ in range(args.repeat):
                    assert p.get("home", htmx=False).status_code == 200

            list(pool.map(home, portals))
            stage(f"{args.active} using /hub/home x{args.repeat}")

            def portal(p: Portal) -> None:
                for _ in range(args.repeat):
                    assert p.get("portal", htmx=False).status_code == 200
                    assert p.get(f"portal/users/{p.name}/card").status_code == 200
                assert p.get(f"portal/users/{p.name}/restart-confirm").status_code == 200
                assert p.get(f"portal/users/{p.name}/volumes").status_code == 200

            list(pool.map(portal, portals))
            stage(f"{args.active} using the portal x{args.repeat}")
            list(pool.map(portal, portals))
            stage(f"{args.active} using the portal again (steady?)")

        # What a browser does: the page, then (htmx, on load) the first page of the user table.
        page = admin.get("portal/admin/users", htmx=False)
        assert page.status_code == 200, page.status_code
        fragment = admin.get("portal/admin/user-table?size=100")
        assert fragment.status_code == 200, fragment.text[:300]
        rows = measured("user rows in /hub/portal/admin/user-table",
                        re.findall(r'<tr data-user=', fragment.text), min(args.users, 100))
        stage(f"admin opened /hub/portal/admin/users ({len(rows)} table rows)")

    base = stages[0]["rss_mib"]
    print(table(["stage", "RSS MiB", "vs start MiB", "peak MiB"],
                [[s["stage"], s["rss_mib"], round(s["rss_mib"] - base, 1), s["peak_mib"]]
                 for s in stages]))
    save("memory", results, args.quick)


if __name__ == "__main__":
    run(main)
