"""A real hub for one benchmark run, users, the machine's description, results on disk, and
the command line every benchmark shares (`--quick`, `run(main)`).

Every Docker object a benchmark makes is named with PREFIX (`dshubbench-` unless
DSHUB_BENCH_PREFIX says otherwise, so sessions sharing one engine keep apart) and removed at
the end (and at the start, should an earlier run have crashed). Run benchmarks under the
shared engine lock:
`flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.<name> [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import docker
import requests

from benchmarks.prober import quick_probes
from tests.support.clients import PASSWORD, Portal, signup
from tests.support.hub import Hub, remove_named_objects

PREFIX = os.environ.get("DSHUB_BENCH_PREFIX", "dshubbench-")
ROOT = Path(__file__).resolve().parents[1]
BENCH_CONFIG = ROOT / "benchmarks" / "jupyterhub_bench_config.py"
RESULTS = ROOT / "benchmarks" / "results"
LAB_IMAGE = "dshub-lab:latest"


def arguments(parser: argparse.ArgumentParser, quick: dict[str, Any]) -> argparse.Namespace:
    """Parse the command line, with `--quick`: `quick` replaces the defaults (tiny sizes, a run
    of seconds that shows the benchmark still works; figures mean nothing, results are not
    written). Options given on the command line still win."""
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, seconds: check that it runs (no results written)")
    if parser.parse_known_args()[0].quick:
        parser.set_defaults(**quick)
        quick_run()
    return parser.parse_args()


_hub_env: dict[str, str] = {}  # what a quick run changes in every bench_hub()


def quick_run() -> None:
    """From now on, what a quick run's figures can do without: probes every 100 ms instead
    of 20, and passwords hashed at bcrypt's cheapest cost (4) instead of production's 12 (a
    quick run signs up and in some 100 times: ~25 CPU-s at cost 12)."""
    quick_probes()
    _hub_env["DSHUB_BENCH_BCRYPT_ROUNDS"] = "4"


def settle(args: argparse.Namespace, seconds: float) -> None:
    """A pause that lets the machine settle before a measurement (a lab's start-up CPU); a
    quick run skips it: its figures mean nothing anyway."""
    if not args.quick:
        time.sleep(seconds)


def run(main: Callable[[], None], name: str = "") -> None:
    """A benchmark's entry point: any failure ends the process with status 1 (SystemExit) and
    a last line naming the benchmark (`name`, else the running module) and the cause (what
    `python -m benchmarks --quick` reports)."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    name = name or (spec.name if spec else Path(sys.argv[0]).stem)
    t0 = time.monotonic()
    try:
        main()
    except Exception as e:  # noqa: BLE001 (every failure is reported the same way)
        traceback.print_exc()
        cause = (str(e).strip().splitlines() or [""])[0][:300]
        sys.exit(f"\n{name} is BROKEN after {time.monotonic() - t0:.0f} s: "
                 f"{type(e).__name__}: {cause}")


def docker_client() -> docker.DockerClient:
    client = docker.from_env(timeout=180)
    client.ping()
    client.images.get(LAB_IMAGE)  # built by scripts/build-images.sh; never pulled
    return client


def remove_bench_objects(client: docker.DockerClient, keep: frozenset[str] = frozenset()) -> None:
    """Containers and volumes named PREFIX*; nothing else (nor the containers named in `keep`)."""
    remove_named_objects(client, PREFIX, keep)


def container_name(user: str) -> str:
    """Name of a lab container (benchmark user names need no escaping: [a-z0-9] only)."""
    assert re.fullmatch(r"[a-z0-9]+", user), user
    return f"{PREFIX}jupyterlab-{user}"


@contextmanager
def code_at(rev: str) -> Iterator[Path]:
    """The project's files at git revision `rev`, for a hub that runs the code before a change
    (`bench_hub(code=...)`), so before and after are measured in one session."""
    tree = Path(tempfile.mkdtemp(prefix=f"{PREFIX}src-"))
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        yield tree
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def short_rev(rev: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev],
                          capture_output=True, text=True, check=True).stdout.strip()


@contextmanager
def bench_hub(env: dict[str, str] | None = None, code: Path | None = None) -> Iterator[Hub]:
    """A hub of our own (data dir, ports, PREFIX* objects), with `admin` signed up.

    `code`: a tree from `code_at()`; the hub then imports its portal and configuration.
    """
    client = docker_client()
    remove_bench_objects(client)
    data = Path(tempfile.mkdtemp(prefix=f"{PREFIX}hub-"))
    env = {"DSHUB_BENCH_GC_LOG": "1", "DSHUB_BENCH_PREFIX": PREFIX, **_hub_env, **(env or {})}
    if code is not None:
        env["PYTHONPATH"] = str(code)  # ahead of the editable install of this checkout
    config = BENCH_CONFIG if code is None else code / BENCH_CONFIG.relative_to(ROOT)
    hub = Hub(data, base_url="/", env=env, config=config)
    try:
        hub.start()
        r = signup(hub, "admin")
        assert r.status_code == 200, r.text[:300]
        yield hub
    except BaseException:
        if hub.log_path.exists():
            print(f"--- hub log (tail) ---\n{hub.log_tail(60)}", file=sys.stderr)
        raise
    finally:
        hub.stop()
        remove_bench_objects(client)
        shutil.rmtree(data, ignore_errors=True)


def create_accounts(admin: Portal, names: list[str]) -> None:
    """Accounts with a password (they can sign in), through the portal's admin form."""
    for name in names:
        r = admin.post("portal/admin/users", {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text[:300]


def create_plain_users(hub: Hub, names: list[str]) -> None:
    """Hub users without a password (rows in the database), in batches through the REST API."""
    for i in range(0, len(names), 100):
        r = hub.api("POST", "users", json={"usernames": names[i:i + 100]})
        assert r.status_code == 201, r.text[:300]


def portal_api(hub: Hub, method: str, path: str, **kw: Any) -> requests.Response:
    """The portal's JSON API with the driver service's token."""
    return requests.request(
        method, hub.hub_url(f"portal/api/{path}"),
        headers={"Authorization": f"token {hub.token}"}, timeout=kw.pop("timeout", 120), **kw,
    )


def server_state(hub: Hub, user: str) -> dict[str, Any]:
    r = portal_api(hub, "GET", f"users/{user}/server")
    assert r.status_code == 200, r.text[:300]
    return r.json()


def start_servers(hub: Hub, users: list[str], timeout: float = 180) -> None:
    """Start several labs at once through the portal's API; wait until all run."""
    for user in users:
        r = portal_api(hub, "POST", f"users/{user}/server/start")
        assert r.status_code == 202, r.text[:300]
    deadline = time.monotonic() + timeout
    waiting = set(users)
    while waiting:
        for user in sorted(waiting):
            state = server_state(hub, user)
            if state["state"] == "running":
                waiting.discard(user)
            elif state["state"] == "failed":
                raise RuntimeError(f"{user}'s lab failed: {state['detail']}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"labs not running after {timeout} s: {sorted(waiting)}")
        time.sleep(0.5)


def gc_pauses(hub: Hub, start: float, end: float) -> list[list[Any]]:
    """The hub's garbage-collector pauses >= 20 ms between two epoch times:
    [[seconds after start, generation, ms], ...] (logged by the benchmark config)."""
    found = []
    for line in hub.log_path.read_text(errors="replace").splitlines():
        if line.startswith("DSHUB-BENCH-GC "):
            _, at, gen, ms = line.split()[:4]  # then "ms collected N frozen N"
            if start <= float(at) <= end + 1:
                found.append([round(float(at) - start, 2), gen, int(ms)])
    return found


def cookie_header(portal: Portal) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in portal.s.cookies)


def proxy_address(hub: Hub) -> tuple[str, int, str]:
    """(host, port, base path) of the proxy's public side."""
    parts = urlsplit(hub.url)
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path


def rss_kib(pid: int) -> dict[str, int]:
    """Resident memory of a process (VmRSS, peak VmHWM) in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {
        "nproc": os.cpu_count(), "memory_gib": round(mem / 2**20, 1), "cpu": cpu,
        "kernel": platform.release(), "python": platform.python_version(),
        "docker": docker.from_env().version().get("Version", "?"),
        "load_avg_at_start": [round(x, 2) for x in load], "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def save(name: str, data: dict[str, Any], quick: bool = False) -> Path | None:
    """Write benchmarks/results/<name>.json (the figures docs/benchmarks.md quotes); a quick
    run's figures are not worth keeping and write nothing."""
    if quick:
        print(f"\nquick run of {name}: it works (figures above are not kept)")
        return None
    if isinstance(data.get("machine"), dict):  # the load over the run: at its start and end
        data["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"\nresults written to {path.relative_to(ROOT)}")
    return path
