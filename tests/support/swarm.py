"""A real 2-node Docker Swarm on this machine: two extra engines, started and removed by the tests.

Each engine (tests/support/engines.py) has its own exec root, socket and pidfile under one
scratch folder (`/tmp/dshubtest-swarm-*`), a data root kept between runs with the lab image in
it, and advertises its own loopback address (127.0.0.2 manager, 127.0.0.3 worker), so the
swarm's traffic stays on loopback. The machine's own engine is only read from (`docker save`
of the lab image); everything here is torn down by PID and by name.

Those addresses are fixed, so only one such swarm can exist on the machine: `start()` takes an
exclusive lock (LOCK_PATH, blocking) and `stop()` releases it; runs with other object prefixes
(DSHUB_TEST_PREFIX) wait their turn. Object names use the run's prefix.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker

from portal.swarm.nodes import ENGINE_LABEL
from tests.support.engines import LAB_IMAGE, Engine, cmdline, read_pid, stop_pid, unmount_under
from tests.support.hub import PREFIX

# Not per prefix: whatever run left a swarm behind, its addresses block the next one.
SCRATCH_GLOB = "dshubtest-swarm-"
LOCK_PATH = Path("/tmp/dshub-swarm.lock")
GWBRIDGE = "docker_gwbridge"


@dataclass
class Swarm:
    """Manager (127.0.0.2) and worker (127.0.0.3); `start()` then `stop()`."""

    root: Path | None = None  # made by start(), once the machine's swarm lock is ours
    engines: list[Engine] = field(default_factory=list)
    had_gwbridge: bool = True  # until start() looks: never delete a bridge we did not make
    load_seconds: float = 0.0
    lock_wait_seconds: float = 0.0
    stop_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def manager(self) -> Engine:
        return self.engines[0]

    @property
    def worker(self) -> Engine:
        return self.engines[1]

    def start(self, image: str = LAB_IMAGE) -> Swarm:
        started = time.monotonic()
        _take_lock()
        self.lock_wait_seconds = time.monotonic() - started
        try:
            _remove_stale()  # left by a run that was killed half-way (the lock is ours now)
            self.root = Path(tempfile.mkdtemp(prefix=SCRATCH_GLOB))
            self.engines = [Engine("d2", "127.0.0.2", self.root / "d2"),
                            Engine("d3", "127.0.0.3", self.root / "d3")]
        except BaseException:
            _release_lock()
            raise
        self.had_gwbridge = _link_exists(GWBRIDGE)
        try:
            for engine in self.engines:
                engine.start()
            for engine in self.engines:
                engine.wait_ready()
                engine.clear_objects()
            m, w = self.manager, self.worker
            m.client().swarm.init(advertise_addr=m.addr, listen_addr=f"{m.addr}:2377",
                                  data_path_addr=m.addr)
            token = m.client().swarm.attrs["JoinTokens"]["Worker"]
            w.client().swarm.join(remote_addrs=[f"{m.addr}:2377"], join_token=token,
                                  advertise_addr=w.addr, listen_addr=f"{w.addr}:2377",
                                  data_path_addr=w.addr)
            self._label_engines()
            self.load_seconds = self.load_image(image)
        except BaseException:
            self.stop()
            raise
        return self

    def node_id(self, engine: Engine) -> str:
        return engine.client().info()["Swarm"]["NodeID"]

    def _label_engines(self) -> None:
        """Tell the hub how to reach each node's engine (see docs/scale-out.md)."""
        api = self.manager.client().api
        for engine in self.engines:
            node = api.inspect_node(self.node_id(engine))
            spec = node["Spec"]
            spec["Labels"] = {**(spec.get("Labels") or {}), ENGINE_LABEL: engine.url}
            spec["Name"] = f"{PREFIX}{engine.name}"  # both nodes report this machine's host name
            api.update_node(node["ID"], node["Version"]["Index"], spec)

    def load_image(self, image: str) -> float:
        """The image on both nodes (loaded at once where missing); the longest load's seconds."""
        seconds: list[float] = []
        errors: list[BaseException] = []

        def load(engine: Engine) -> None:
            try:
                seconds.append(engine.ensure_image(image))
            except BaseException as e:  # reported below, in the caller's thread
                errors.append(e)

        threads = [threading.Thread(target=load, args=(e,)) for e in self.engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return max(seconds)

    def stop(self) -> None:
        """Undo everything, in order: our services, swarm membership, daemons, mounts, roots;
        then let the next run have the machine's swarm."""
        try:
            self._stop()
        finally:
            _release_lock()

    def _stop(self) -> None:
        started = time.monotonic()
        for engine in self.engines:
            if not engine.sock.exists():
                continue
            with contextlib.suppress(Exception):
                client = engine.client(timeout=15)
                for service in client.services.list():
                    if service.name.startswith((PREFIX, "dshubbench-")):
                        service.remove()
            with contextlib.suppress(Exception):
                engine.client(timeout=15).swarm.leave(force=True)
        left = time.monotonic()
        for engine in self.engines:
            engine.remove()
        stopped = time.monotonic()
        if self.root is not None:
            unmount_under(self.root)
            shutil.rmtree(self.root, ignore_errors=True)
        # Swarm mode makes this bridge when a node first needs it (not at init): ours if it
        # appeared after start() and no other swarm runs on the machine's engine.
        if not self.had_gwbridge and _link_exists(GWBRIDGE) and not _other_swarm_running():
            subprocess.run(["ip", "link", "del", GWBRIDGE], check=False)
        self.stop_seconds = {"leave": left - started, "daemons": stopped - left}


_lock_fd: int | None = None  # this process's hold on LOCK_PATH, from start() to stop()


def _take_lock() -> None:
    """Wait until no other run has a swarm on this machine, then hold the lock."""
    global _lock_fd
    if _lock_fd is not None:
        raise RuntimeError("this process already runs a test swarm (only one fits the machine)")
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Waiting for another run's swarm to end ({LOCK_PATH})", flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    _lock_fd = fd


def _release_lock() -> None:
    global _lock_fd
    if _lock_fd is not None:
        fd, _lock_fd = _lock_fd, None
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def remove_stale_swarms() -> None:
    """A run killed half-way leaves daemons and mounts behind: remove them, by PID and by name.

    Waits for the machine's swarm lock first (a live swarm of another run is never touched);
    `Swarm.start()` does this by itself. A no-op while this process runs a swarm.
    """
    if _lock_fd is not None:
        return
    _take_lock()
    try:
        _remove_stale()
    finally:
        _release_lock()


def _remove_stale() -> None:
    """Only folders named like ours and daemons whose pidfile lies in them are touched."""
    gwbridge_ours = False
    for root in Path(tempfile.gettempdir()).glob(f"{SCRATCH_GLOB}*"):
        for pidfile in root.glob("*/pid"):
            pid = read_pid(pidfile)
            if pid and str(root) in cmdline(pid):
                stop_pid(pid, 30)
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)
        gwbridge_ours = True
    # Swarm mode made the bridge; with no other swarm on the machine it was one of ours.
    if gwbridge_ours and _link_exists(GWBRIDGE) and not _other_swarm_running():
        subprocess.run(["ip", "link", "del", GWBRIDGE], check=False)


def _other_swarm_running() -> bool:
    with contextlib.suppress(Exception):
        return docker.from_env(timeout=10).info()["Swarm"]["LocalNodeState"] != "inactive"
    return False


def _link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()
