"""The hub application inside the pytest process: the production configuration file and
`portal.setup(c)`, the DSHubAuthenticator, the PortalSpawner over an in-memory Docker engine,
and the proxy's routing table in memory. No Docker engine, no proxy process, no lab.

The hub serves on its own event loop in a thread of its own, as it does in production: tests
talk to it over loopback HTTP with the same clients as the real-hub tests (tests/support/
clients.py), so a test moves between the two suites unchanged, and a blocking call on the hub's
loop shows here as it would in production. Requests go straight to the hub's own port (there is
no proxy in front), which serves every /hub/ route.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from unittest import mock

import docker
from jupyterhub.app import JupyterHub
from jupyterhub.proxy import Proxy
from traitlets import default
from traitlets.config import Config

from portal import runtime_factory
from portal.docker.service import DockerService
from portal.lab.spawner import PortalSpawner

from .fake_docker import FakeEngine
from .hub import ROOT, Hub, free_port, lab_ports

T = TypeVar("T")
CONFIG_FILE = ROOT / "config" / "jupyterhub_config.py"
START_BOUND = 60.0  # s for initialize() and start(): 3-6 s on a busy 2-core machine


class MemoryProxy(Proxy):
    """The proxy's routing table, kept in memory: the hub adds and checks routes as usual, and
    nothing listens on the public port."""

    @default("should_start")
    def _no_process(self) -> bool:
        return False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.routes: dict[str, dict[str, Any]] = {}

    async def add_route(self, routespec: str, target: str, data: dict) -> None:
        self.routes[routespec] = {"routespec": routespec, "target": target, "data": data}

    async def delete_route(self, routespec: str) -> None:
        self.routes.pop(routespec, None)

    async def get_all_routes(self) -> dict[str, dict[str, Any]]:
        return {spec: dict(route) for spec, route in self.routes.items()}


class FakeEngineSpawner(PortalSpawner):
    """The production spawner; only its Docker client (DockerSpawner's `client`) is the
    in-memory engine, the one the portal's DockerService talks to."""

    engine: ClassVar[FakeEngine | None] = None

    @property
    def client(self) -> FakeEngine:  # type: ignore[override]
        assert self.engine is not None, "the in-process hub sets the engine before serving"
        return self.engine


class InProcessHub(JupyterHub):
    """JupyterHub minus what only a process of its own may do (signal handlers, stopping the
    loop it runs on), loading the production config file, then the test run's additions."""

    additions: Config = Config()  # set before initialize(): ports, the fakes, the test driver
    driver_services: list[dict] = []
    driver_roles: list[dict] = []
    log_file: str = ""

    def load_config_file(self, *args: Any, **kwargs: Any) -> None:
        super().load_config_file(*args, **kwargs)
        self.update_config(self.additions)
        # Appended, as tests/support/jupyterhub_test_config.py does: setup(c) registered the
        # portal's own service and role already.
        self.services = [*self.services, *self.driver_services]
        self.load_roles = [*self.load_roles, *self.driver_roles]

    def init_logging(self) -> None:
        super().init_logging()
        # The hub's log (and the portal's, a child logger) into a file, as the real hub's.
        handler = logging.FileHandler(self.log_file, encoding="utf8")
        handler.setFormatter(logging.Formatter("[%(levelname).1s %(asctime)s %(name)s] "
                                               "%(message)s"))
        for logger in {self.log, logging.getLogger("JupyterHub")}:
            logger.handlers = [handler]
            logger.propagate = False
            logger.setLevel(logging.INFO)

    def init_signal(self) -> None:
        """Signal handlers belong to the main thread, which is pytest's."""

    def _stop_event_loop(self) -> None:
        """The loop is the serving thread's own; it ends when that thread returns."""


def hub_environment(data_dir: Path, base_url: str, extra: dict[str, str]) -> dict[str, str]:
    """The variables the configuration reads, as tests/support/hub.py gives its hubs."""
    return {
        "DOCKER_NETWORK_NAME": "host",
        "DOCKER_NOTEBOOK_IMAGE": "dshub-lab:latest",
        "JUPYTERHUB_DATA_DIR": str(data_dir),
        "JUPYTERHUB_BASE_URL": base_url,
        "JUPYTERHUB_ADMIN": "admin",
        "ENABLE_GPU_SUPPORT": "0",
        "ENABLE_SERVICE_MLFLOW": "1",
        "ENABLE_SERVICE_GLANCES": "0",
        "SUDO_MODE_MINUTES": "1440",
        "LAB_USAGE_INTERVAL": "5s",
        **extra,
    }


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ as the hub's process would have it (no stray ENABLE_/JUPYTERHUB_/PORTAL_
    variable of the test run), restored afterwards: the pytest process runs other tests too."""
    stray = [k for k in os.environ if k.startswith(("ENABLE_", "JUPYTERHUB_", "PORTAL_"))]
    with mock.patch.dict(os.environ):
        for key in stray:
            del os.environ[key]
        os.environ.update(values)
        yield



@contextlib.contextmanager
def no_real_docker() -> Iterator[None]:
    """Making a real Docker client fails meanwhile: in process, every Docker call goes to the
    FakeEngine through the DockerService seam, never to the machine's engine."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an in-process test reached for the real Docker engine: every "
                             "Docker call must go through the FakeEngine seam")

    with mock.patch.object(docker.APIClient, "__init__", refuse), \
            mock.patch.object(docker.DockerClient, "__init__", refuse):
        yield

class HubInProcess(Hub):
    """tests/support/hub.py's Hub (URLs, REST API, SQL, setup code), served from a thread."""

    def __init__(self, data_dir: Path, base_url: str = "/ds hub/", env: dict | None = None,
                 engine: FakeEngine | None = None) -> None:
        # Not Hub.__init__: it would take a real hub's ports (proxy, API, a hundred for labs).
        self.config, self.venv_bin = CONFIG_FILE, Path()
        self.data_dir, self.base_path, self.extra_env = data_dir, base_url, dict(env or {})
        self.token, self.host, self.proc = secrets.token_hex(16), "127.0.0.1", None
        self.log_path = data_dir / "hub.log"
        port = free_port()
        # Clients reach the hub's own server: "proxy" and "hub" are the same port here.
        self.ports = {"proxy": port, "hub": port, "public": free_port(), "labs": lab_ports()}
        self.engine = engine or FakeEngine()
        self.app: InProcessHub | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    def env(self) -> dict[str, str]:
        return hub_environment(self.data_dir, self.base_path, self.extra_env)

    def _additions(self) -> Config:
        c = Config()
        c.JupyterHub.ip = c.JupyterHub.hub_ip = "127.0.0.1"
        c.JupyterHub.port = self.ports["public"]  # the proxy's: nothing listens there
        c.JupyterHub.hub_port = self.ports["hub"]
        c.JupyterHub.proxy_class = MemoryProxy
        c.JupyterHub.spawner_class = FakeEngineSpawner
        c.PortalSpawner.host_port_range = tuple(self.ports["labs"])
        c.PortalSpawner.pull_policy = "never"
        # No lab ever answers here: a start's request answers 202 after JupyterHub's 10 s, and
        # the hub gives the start up 2 s later (its default, 30 s, made a test that waits for a
        # start to be stopped again wait half a minute a start). Not less than 10: a start given
        # up before its request answered would answer 500.
        c.PortalSpawner.start_timeout = 10
        c.PortalSpawner.http_timeout = 12
        c.GpuDetection.pull = False
        c.DSHubAuthenticator.bcrypt_rounds = 4  # as the real test hubs (jupyterhub_test_config)
        return c

    def start(self, timeout: float = START_BOUND) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        FakeEngineSpawner.engine = self.engine
        # The hub is a process-wide singleton (portal.setup finds a serving hub through it):
        # one in-process hub per pytest process, and none left by another test.
        if JupyterHub.initialized():
            raise RuntimeError("a JupyterHub instance already exists in this process")
        app = InProcessHub.instance(config_file=str(CONFIG_FILE))
        app.additions = self._additions()
        app.driver_services = [{"name": "test-driver", "api_token": self.token},
                               {"name": "test-broadcaster",
                                "api_token": "broadcast-" + self.token},
                               {"name": "test-scraper", "api_token": "scrape-" + self.token}]
        app.driver_roles = [
            {"name": "test-driver", "services": ["test-driver"],
             "scopes": ["admin:users", "admin:servers", "access:servers", "list:users",
                        "read:users", "tokens", "admin:groups"]},
            {"name": "test-broadcaster", "scopes": ["custom:dshub:broadcast"],
             "services": ["test-broadcaster"]},
            {"name": "test-scraper", "scopes": ["read:metrics"], "services": ["test-scraper"]},
        ]
        app.log_file = str(self.log_path)
        self.app = app
        # The portal's DockerService (made by build_runtime in setup(c)) talks to the same
        # engine as the spawner.
        service = functools.partial(DockerService, client_factory=lambda: self.engine)
        # The configuration is read while initialize() runs, in the serving thread; the
        # environment and the seam are patched until then only.
        with environment(self.env()), no_real_docker(), \
                mock.patch.object(runtime_factory, "DockerService", service):
            self._thread = threading.Thread(target=self._serve, name="inprocess-hub",
                                            daemon=True)
            self._thread.start()
            if not self._ready.wait(timeout):
                raise RuntimeError(f"the in-process hub did not start within {timeout} s:\n"
                                   f"{self.log_tail()}")
        if self._failure is not None:
            InProcessHub.clear_instance()
            raise RuntimeError(f"the in-process hub failed to start: {self._failure!r}\n"
                               f"{self.log_tail()}") from self._failure

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        assert self.app is not None
        self.loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            await self.app.initialize([])
            await self.app.start()
        except BaseException as e:  # SystemExit too: the hub exits on a bad configuration
            self._failure = e
            self._ready.set()
            return
        self._ready.set()
        await self._stopping.wait()
        if self.app.http_server is not None:
            self.app.http_server.stop()
        for callback in self.app._periodic_callbacks.values():
            callback.stop()
        await self.app.cleanup()
        # asyncio.run() then cancels what is left (the portal's background tasks).

    def stop(self) -> None:
        if self._thread is None:
            return
        if self.loop is not None and self._stopping is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(30)
        self._thread = None
        if InProcessHub.initialized() and InProcessHub.instance() is self.app:
            InProcessHub.clear_instance()  # only ours: a unit test may have made its own since
        FakeEngineSpawner.engine = None

    def restart(self) -> None:
        raise NotImplementedError("a restart is a real hub's test (tests/integration)")

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the hub's loop (its objects belong there) and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def claim_volumes(self, user_name: str) -> list[str]:
        """Make the user's volumes as a start does (the spawner's own names and owner labels,
        portal/lab/volume_owners.py), without starting a lab; their names."""

        async def claim() -> list[str]:
            assert self.app is not None
            spawner = self.app.users[user_name].spawner
            await spawner.claim_user_volumes()
            return [v.name for v in spawner.owned_volumes()]

        return self.run(claim())

    def wait_for(self, condition: Any, timeout: float = 10, what: str = "") -> None:
        """Poll `condition()` until true, at most `timeout` s (no fixed sleeps in tests)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout} s: {what or condition}")
            time.sleep(0.02)
