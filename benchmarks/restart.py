"""Restart to JupyterLab answering through the proxy: the portal against a bare `docker restart`.

Portal: `POST /hub/portal/api/users/<name>/server/restart {"wait": true}` answers once the hub
has seen the lab answer through the proxy (the same code the portal's button runs).
Floor: `docker restart` of the same container (docker-py, 10 s stop timeout like the portal),
then GET `/user/<name>/api` through the proxy every 20 ms until the lab answers (any status
but 502/503/504). The two alternate, rounds times, on the same running lab.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.restart [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import docker

from tests.support.clients import Portal

from .common import (
    arguments,
    bench_hub,
    container_name,
    create_accounts,
    docker_client,
    machine,
    portal_api,
    proxy_address,
    run,
    save,
    settle,
    start_servers,
)
from .http import Connection
from .stats import measured, table

USER = "restarter"
GOAL_RATIO = 1.1
QUICK = {"rounds": 1}


async def answers(host: str, port: int, path: str) -> bool:
    conn = Connection(host, port, keep_alive=False)
    try:
        r = await asyncio.wait_for(conn.request("GET", path), 5)
        return r.status not in (502, 503, 504)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
        return False
    finally:
        await conn.close()


def wait_answering(host: str, port: int, path: str, bound: float = 120) -> float:
    """Poll every 20 ms; the time at which the lab first answered."""
    deadline = time.perf_counter() + bound
    while time.perf_counter() < deadline:
        if asyncio.run(answers(host, port, path)):
            return time.perf_counter()
        time.sleep(0.02)
    raise TimeoutError(path)


def portal_restart(hub: Any) -> float:
    t0 = time.perf_counter()
    r = portal_api(hub, "POST", f"users/{USER}/server/restart", json={"wait": True})
    seconds = time.perf_counter() - t0
    assert r.status_code == 200 and r.json()["state"] == "running", r.text[:300]
    return seconds


def docker_restart(client: docker.DockerClient, address: tuple[str, int, str]) -> float:
    t0 = time.perf_counter()
    client.api.restart(container_name(USER), timeout=10)
    return wait_answering(*address) - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = arguments(parser, QUICK)
    client = docker_client()
    results: dict[str, Any] = {"machine": machine(), "rounds": args.rounds}
    portal_s: list[float] = []
    floor_s: list[float] = []
    with bench_hub() as hub:
        admin = Portal(hub, "admin")
        create_accounts(admin, [USER])
        start_servers(hub, [USER])
        host, port, base = proxy_address(hub)
        address = (host, port, f"{base}user/{USER}/api")
        wait_answering(*address)
        settle(args, 2)
        for i in range(args.rounds):
            # Alternate which goes first, so a drift in machine load hits both alike.
            order = ("portal", "docker") if i % 2 == 0 else ("docker", "portal")
            for kind in order:
                if kind == "portal":
                    portal_s.append(portal_restart(hub))
                else:
                    floor_s.append(docker_restart(client, address))
                wait_answering(*address)
                settle(args, 1.5)  # the lab's start-up CPU, before the next one
    measured("portal restarts", portal_s, args.rounds)
    measured("docker restarts", floor_s, args.rounds)
    p, f = statistics.median(portal_s), statistics.median(floor_s)
    results.update({
        "portal_s": [round(x, 3) for x in portal_s],
        "docker_floor_s": [round(x, 3) for x in floor_s],
        "portal_median_s": round(p, 3), "docker_floor_median_s": round(f, 3),
        "ratio_of_medians": round(p / f, 3), "goal_ratio": GOAL_RATIO,
    })
    print(table(["restart to JupyterLab answering", "median s", "min s", "max s", "runs"], [
        ["portal (API, wait=true)", p, min(portal_s), max(portal_s), len(portal_s)],
        ["bare docker restart + first answer", f, min(floor_s), max(floor_s), len(floor_s)],
    ]))
    verdict = "met" if p / f <= GOAL_RATIO else "missed"
    print(f"ratio of medians {p / f:.3f} (goal: within {GOAL_RATIO}x, {verdict})")
    save("restart", results, args.quick)


if __name__ == "__main__":
    run(main)
