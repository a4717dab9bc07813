"""Does the hub stay responsive while it creates 1,000 accounts from a CSV?

A hub of its own (bcrypt cost 12 for people's passwords; the batch's generated passphrases use
cost 8, portal/auth/passwords.py), the admin signed in. The admin uploads a CSV of N accounts in
one group (the preview: every name checked against every account and the rest of the file), then
confirms; the prober (own process) GETs /hub/health on the hub's own port every 20 ms while the
accounts are created, and once the hub is idle. Figures: the preview's answer time, the creation
time, the probes' p50/p99/max idle and during the creation, and the credentials' size.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.batch_accounts [--quick]
        [--rows 1000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import requests

from tests.support.batch import confirm, credentials, token_of, upload, wait_finished
from tests.support.clients import admin_in_sudo_mode

from .common import arguments, bench_hub, machine, run, save
from .prober import Prober
from .stats import table

GOAL_P99_MS = 50.0


def scenario(rows: int, idle: float) -> dict[str, Any]:
    results: dict[str, Any] = {"rows": rows}
    with bench_hub() as hub:
        admin = admin_in_sudo_mode(hub)
        r = requests.post(hub.hub_url("api/groups/course"), timeout=30,
                          headers={"Authorization": f"token {hub.token}"})
        assert r.status_code == 201, r.text
        text = "name,groups\n" + "".join(f"student-{i:05d},course\n" for i in range(rows))
        probe_at = ("127.0.0.1", hub.ports["hub"], "/hub/health")
        with Prober(*probe_at) as idle_probe:
            time.sleep(idle)
        results["idle"] = idle_probe.summary()
        t0 = time.monotonic()
        preview = upload(admin, text)
        results["preview_s"] = round(time.monotonic() - t0, 3)
        token = token_of(preview)
        with Prober(*probe_at) as probe:
            t0 = time.monotonic()
            assert confirm(admin, token).status_code == 200
            done = wait_finished(admin, token, timeout=1800)
            results["create_s"] = round(time.monotonic() - t0, 2)
        assert f"{rows}</span> of {rows} accounts created" in done.text, done.text[:500]
        results["during"] = probe.summary()
        got = credentials(admin, token)
        assert got.status_code == 200
        results["credentials_lines"] = got.text.count("\n")
    table_rows = [[name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["failed"]]
                  for name, s in (("idle", results["idle"]),
                                  (f"creating {rows} accounts", results["during"]))]
    print(table(["/hub/health", "probes", "p50 ms", "p99 ms", "max ms", "failed"], table_rows))
    print(f"preview of {rows} rows: {results['preview_s']} s; creation: {results['create_s']} s;"
          f" credentials: {results['credentials_lines']} lines; goal p99 < {GOAL_P99_MS:.0f} ms")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=5.0)
    args = arguments(parser, {"rows": 20, "idle": 1.0})
    results = {"machine": machine(), **scenario(args.rows, args.idle)}
    if not args.quick:
        save("batch_accounts", results)


if __name__ == "__main__":
    run(main)
