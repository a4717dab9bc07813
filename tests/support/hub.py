"""A real JupyterHub process for the tests, on loopback ports of its own."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import docker
import requests
from urllib3.exceptions import InsecureRequestWarning

from portal.lab.host_ports import bindable

from . import warm_hubs

ROOT = Path(__file__).resolve().parents[2]
# The hub runs from the virtual environment running the tests: .venv (the default JupyterHub
# line) or .venv-jh55 (the other line, scripts/test.sh).
VENV_BIN = Path(sys.executable).parent
CONFIG = ROOT / "tests" / "support" / "jupyterhub_test_config.py"
# Every Docker object a test run makes starts with this; clean-up removes only those. Two runs
# with different prefixes can share one engine (DSHUB_TEST_PREFIX).
# Under pytest-xdist each worker (gw0, gw1, ...) adds its own name: workers never remove each
# other's objects, and a plain run's clean-up (`dshubtest-`) still covers them all.
PREFIX = os.environ.get("DSHUB_TEST_PREFIX", "dshubtest-")
if os.environ.get("PYTEST_XDIST_WORKER"):
    PREFIX = f"{PREFIX}{os.environ['PYTEST_XDIST_WORKER']}-"


def containers_named(client, prefix: str = PREFIX, stopped_too: bool = True) -> dict[str, str]:
    """{name: ID} of the containers whose names start with `prefix`, from one list call.

    Not `containers.list()`: it inspects every container it lists, and one that another worker
    removes in between makes the call fail with 404.
    """
    found = {}
    for row in client.api.containers(all=stopped_too, filters={"name": prefix}):
        for name in row.get("Names") or []:
            if name.lstrip("/").startswith(prefix):
                found[name.lstrip("/")] = row["Id"]
    return found


def remove_named_objects(client, prefix: str = PREFIX, keep: frozenset[str] = frozenset()) -> None:
    """Remove containers and volumes whose names start with `prefix`; nothing else (nor the
    containers named in `keep`)."""
    for name, container_id in containers_named(client, prefix).items():
        if name in keep:
            continue
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(container_id, force=True)
    for v in client.volumes.list(filters={"name": prefix}):
        if v.name.startswith(prefix):
            v.remove(force=True)


# Ports for hubs, their labs, proxies and the tests' own servers come from below the kernel's
# ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default), in a block of their
# own per pytest worker, counting up. A port asked of the kernel (bind to port 0) is an
# ephemeral one, and two workers' hubs were handed the same one: a lab of each on one port, or
# a restarting hub's proxy port taken by another worker's lab.
_PORT_BLOCK = 3600
_FIRST_PORT = 10000
_SLOTS = 6
_LOCK_PATH = "/tmp/dshub-ports-{}.lock"  # one per block
# Per hub: its labs on the host network (PortalSpawner.host_port_range); a benchmark of many
# labs asks for more (DSHUB_TEST_LAB_PORTS, within the block's 3,600).
_LAB_PORTS = 100
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
# The block a process would like: gw0..gw4 get blocks 0-4, counted from DSHUB_TEST_SLOT_BASE
# (0 by default; scripts/test.sh gives a pytest session that runs beside another the base 2);
# a process outside pytest-xdist (benchmarks, a plain pytest) block 5; DSHUB_TEST_PORT_SLOT
# (0-5) names one by hand.
_base = int(os.environ.get("DSHUB_TEST_SLOT_BASE", "0"))
_wanted = (int(os.environ["DSHUB_TEST_PORT_SLOT"]) % _SLOTS
           if os.environ.get("DSHUB_TEST_PORT_SLOT")
           else (_base + int(_worker[2:])) % 5 if _worker.startswith("gw") else 5)


def _claim_slot(wanted: int) -> tuple[int, object]:
    """A block no other process on this machine uses: each is held by a lock file for this
    process's life. Two runs that wanted the same block once shared it, and a hub that could
    not bind its port left its health check to another run's hub on that port (a sign-up there
    answered 409). Tries the wanted block, then the others. When every block is held, waits for
    whichever is given back first: waiting for the wanted one alone hung a run whose other
    worker had taken it (a worker keeps its block until it exits, and it waited for the run)."""
    order = [wanted, *(s for s in range(_SLOTS) if s != wanted)]
    said = False
    while True:
        for slot in order:
            lock = open(_LOCK_PATH.format(slot), "w")  # noqa: SIM115 (held until exit)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            return slot, lock
        if not said:
            print(f"Every port block of this machine is in use ({_SLOTS}); waiting for one",
                  file=sys.stderr, flush=True)
            said = True
        time.sleep(0.5)


STARTED: list[Hub] = []  # every Hub.start() of this process, for stop_every_hub()
_next_ports = None  # this process's ports, once it needs one (a pytest controller never does)
_slot_lock = None


def _next_port() -> int:
    global _next_ports, _slot_lock
    if _next_ports is None:
        slot, _slot_lock = _claim_slot(_wanted)
        first = _FIRST_PORT + slot * _PORT_BLOCK
        _next_ports = iter(range(first, first + _PORT_BLOCK))
    port = next(_next_ports, None)
    if port is None:
        raise RuntimeError(f"this process used all {_PORT_BLOCK} ports of its block")
    return port


def free_port() -> int:
    """The next loopback port of this process's block that nothing listens on or holds."""
    while not bindable(port := _next_port()):
        pass
    return port


def lab_ports() -> list[int]:
    """[first, last]: the next run of ports of this block, for one hub's labs."""
    count = int(os.environ.get("DSHUB_TEST_LAB_PORTS", _LAB_PORTS))
    ports = [_next_port() for _ in range(count)]
    return [ports[0], ports[-1]]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_every_hub() -> None:
    """Stop every hub this process started and still runs: a fixture whose set-up failed after
    its hub started never reaches its own stop (run when the process exits); then end the warm
    processes the hubs were forked from."""
    while STARTED:
        STARTED.pop().stop()
    warm_hubs.close_all()


atexit.register(stop_every_hub)



@functools.lru_cache(maxsize=8)
def _encoded_base(base_path: str) -> str:
    """The hub's base URL as the hub encodes it (settings parse every variable: 0.7 ms, once
    per base instead of once per request)."""
    from portal.platform.settings import load_settings

    return load_settings({"JUPYTERHUB_BASE_URL": base_path}).base_url

class Hub:
    """Start, stop and restart one hub; talk to its REST API with the driver token."""

    # Forked from a process that imported the hub's modules once (tests/support/warm_hubs.py)
    # rather than a fresh `jupyterhub` process: tests/conftest.py turns it on for the tests,
    # benchmarks/__main__.py for quick runs; full benchmark runs measure fresh processes, and
    # the hub restart test starts them.
    warm_start = False

    def __init__(self, data_dir: Path, base_url: str = "/ds hub/", env: dict | None = None,
                 config: Path = CONFIG, subdomains: bool = False, venv_bin: Path = VENV_BIN):
        self.config = config  # benchmarks pass their own file, which loads this one
        self.venv_bin = venv_bin  # the upgrade test runs the other JupyterHub line's
        self.data_dir = data_dir
        self.token = secrets.token_hex(16)
        self.ports = {"proxy": free_port(), "hub": free_port(), "api": free_port(),
                      "labs": lab_ports()}
        self.extra_env = env or {}
        # Labs on <user>.localhost (JUPYTERHUB_SUBDOMAIN_HOST): the hub is then reached as
        # localhost, the origin its cookies and OAuth redirects name.
        self.host = "localhost" if subdomains else "127.0.0.1"
        if subdomains:
            self.extra_env.setdefault("JUPYTERHUB_SUBDOMAIN_HOST",
                                      f"http://localhost:{self.ports['proxy']}")
        self.base_path = base_url  # as configured; URLs below are percent-encoded
        self.proc: subprocess.Popen | warm_hubs.WarmHub | None = None
        self.log_path = data_dir / "hub.log"
        # Run after each restart: what the hub keeps in memory only (the session admin's sudo
        # confirmation) is given back, as its user would do by confirming again.
        self.after_restart: list = []

    @property
    def scheme(self) -> str:
        # ENABLE_JUPYTERHUB_SSL=1: the public port speaks HTTPS with the hub's own certificate.
        return "https" if self.extra_env.get("ENABLE_JUPYTERHUB_SSL") == "1" else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.ports['proxy']}{_encoded_base(self.base_path)}"

    def hub_url(self, path: str = "") -> str:
        return f"{self.url}hub/{path}"

    @property
    def database_url(self) -> str:
        """The hub's database: PostgreSQL when the run provides one, else SQLite."""
        from portal.platform.settings import load_settings

        return load_settings({"JUPYTERHUB_DATA_DIR": str(self.data_dir),
                              **self.extra_env}).hub_database_url

    def sql(self, database: str, statement: str, **params) -> list[tuple]:
        """Run one statement on the hub's ("hub") or the portal's ("portal") database, whichever
        engine this run uses (SQLite or PostgreSQL); return its rows (none for a change)."""
        import sqlalchemy

        with self._engine(database).begin() as conn:
            if conn.dialect.name == "sqlite":  # cascades, as PostgreSQL always does
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
            result = conn.execute(sqlalchemy.text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []

    def _engine(self, database: str):
        """One engine per database for this hub's life. No pool: a connection is opened per
        statement and closed after it, as before, so no test holds a lock or a session the hub
        or PostgreSQL would wait on; only the engine's set-up (settings, dialect, compiled
        statements) is kept, which the gate's walk made thousands of times per run."""
        import sqlalchemy

        from portal.platform.settings import load_settings

        settings = load_settings({"JUPYTERHUB_DATA_DIR": str(self.data_dir), **self.extra_env})
        url = settings.hub_database_url if database == "hub" else settings.store_url
        if url not in self._engines:
            self._engines[url] = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        return self._engines[url]

    @functools.cached_property
    def _engines(self) -> dict:
        # Made on first use: HubInProcess does not run this class's __init__.
        return {}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ENABLE_", "JUPYTERHUB_", "PORTAL_"))}
        proxy_bin = ROOT / ".dev" / "node" / "node_modules" / ".bin"
        env.update({
            "PATH": f"{proxy_bin}:{self.venv_bin}:{env.get('PATH', '')}",
            "DOCKER_NETWORK_NAME": "host",
            "DOCKER_NOTEBOOK_IMAGE": "dshub-lab:latest",
            "JUPYTERHUB_DATA_DIR": str(self.data_dir),
            "JUPYTERHUB_BASE_URL": self.base_path,
            "JUPYTERHUB_ADMIN": "admin",
            "ENABLE_GPU_SUPPORT": "0",
            "ENABLE_SERVICE_MLFLOW": "1",
            "ENABLE_SERVICE_GLANCES": "0",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # The session's admin confirms its password once (tests/conftest.py); sudo tests
            # use fresh sessions.
            "SUDO_MODE_MINUTES": "1440",
            "LAB_USAGE_INTERVAL": "5s",
            "USAGE_FLUSH_INTERVAL": "5s",  # the usage history reaches the store within seconds
            "DSHUB_TEST_TOKEN": self.token,
            "DSHUB_TEST_PORTS": json.dumps(self.ports),
            "DSHUB_TEST_PREFIX": PREFIX,
            # A crash (SIGSEGV, abort) prints every thread's Python stack into the hub's log.
            "PYTHONFAULTHANDLER": "1",
        })
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> None:
        STARTED.append(self)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [str(self.venv_bin / "jupyterhub"), "-f", str(self.config)]
        if self.warm_start:
            self.proc = warm_hubs.launch(self.venv_bin, command, self.env(), self.data_dir,
                                         self.log_path)
        else:
            log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the process's life)
            self.proc = subprocess.Popen(command, cwd=self.data_dir, env=self.env(), stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode} "
                                   f"({self.last_error()!r}):\n{self.log_tail()}")
            try:
                # Readiness only: tests that care verify the hub's certificate themselves.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", InsecureRequestWarning)
                    r = requests.get(self.hub_url("health"), timeout=2, verify=False)
                    # Ours, not another process's on this port: our hub said it runs.
                    if r.status_code == 200 and self._said_running(offset):
                        return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"hub did not answer within {timeout} s ({self.last_error()!r}):"
                           f"\n{self.log_tail()}")

    def _said_running(self, offset: int) -> bool:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return b"JupyterHub is now running" in f.read()

    def stop(self) -> None:
        """SIGTERM the hub's process group, like an operator's restart; the hub stops the proxy
        it started (in a session of its own), or this does once the hub is gone."""
        if self.proc is None or self.proc.poll() is not None:
            self._stop_leftover_proxy()
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        # Anything else of its group may outlive the hub by a moment.
        deadline = time.monotonic() + 10
        while _group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._stop_leftover_proxy()

    def _stop_leftover_proxy(self) -> None:
        """The proxy of a hub that crashed or was killed keeps its ports (and answers for them)
        until stopped: JupyterHub recorded its PID in the hub's working directory."""
        pid_file = self.data_dir / "jupyterhub-proxy.pid"
        try:
            pid = int(pid_file.read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if b"configurable-http-proxy" not in command:
            return  # the PID was reused by something else
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()
        for again in self.after_restart:
            again()

    def setup_code(self) -> str:
        """The one-time code for signing up the first admin ("" when there is none)."""
        path = self.data_dir / "setup-code"
        return path.read_text().strip() if path.exists() else ""

    def last_error(self) -> str:
        """The hub log's last error or critical line ("" when there is none)."""
        for line in reversed(self.log_path.read_text(errors="replace").splitlines()):
            if (line.startswith(("[E ", "[C ")) or "Error:" in line) \
                    and "Received signal" not in line:  # a deliberate stop is no error
                return line
        return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # REST API with the driver service's token.
    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(method, self.hub_url(f"api/{path}"), headers=headers,
                                timeout=kw.pop("timeout", 30), **kw)
