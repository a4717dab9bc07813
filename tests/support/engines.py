"""Extra Docker engines on this machine for the tests and benchmarks (a Swarm's nodes, an engine
that a test restarts): started by PID, each with its own socket, exec root and pidfile under a
scratch folder, and torn down by PID.

Loading the lab image (600 MB) into a fresh engine cost about 10 s of both cores, five times a
run. So an engine's data root is kept between runs under KEPT_ROOT/<name> (with the lab image in
it, and any other image a test loaded: the Swarm test's second environment) while one process
at a time holds that name's lock; another run that wants the same name at once gets a scratch
data root and loads the image there. A kept data root holds test objects
only: at each start every container, volume, network and swarm membership left in it goes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker

LAB_IMAGE = "dshub-lab:latest"
# The lab image saved from the machine's engine, kept between runs (re-saved when it changes);
# another image (the Swarm test's second environment) has a file of its own beside it.
IMAGE_CACHE = Path(tempfile.gettempdir()) / "dshubtest-lab-image.tar"
KEPT_ROOT = Path(os.environ.get("DSHUB_TEST_ENGINES_DIR", "/var/lib/dshub/test-engines"))
DAEMON_FLAGS = ["--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false"]


@dataclass
class Engine:
    """One extra dockerd: its scratch folder, loopback address, data root and process.

    `start()` and `stop()` may alternate (a test restarts the engine on the same data);
    `remove()` ends it for good and gives its kept data root back."""

    name: str
    addr: str
    root: Path  # scratch: socket, exec root, pidfile, log
    proc: subprocess.Popen | None = None
    keep_data: bool = True
    data_root: Path | None = None  # chosen at the first start
    _data_lock: int | None = None

    @property
    def sock(self) -> Path:
        return self.root / "sock"

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    @property
    def pidfile(self) -> Path:
        return self.root / "pid"

    def client(self, timeout: int = 60) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=timeout)

    def start(self) -> None:
        if self.data_root is None:
            self.data_root = self._claim_data_root()
        self.data_root.mkdir(parents=True, exist_ok=True)
        (self.root / "exec").mkdir(parents=True, exist_ok=True)
        log = open(self.root / "log", "ab")  # noqa: SIM115 (the daemon's own log)
        # The lab image exists only locally: never ask a registry for it (there is none).
        env = {**os.environ, "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}
        self.proc = subprocess.Popen(
            ["dockerd", *DAEMON_FLAGS, "--data-root", str(self.data_root),
             "--exec-root", str(self.root / "exec"), "--pidfile", str(self.pidfile),
             "-H", self.url],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,
        )

    def _claim_data_root(self) -> Path:
        """The kept data root when no other process holds it, else a scratch one."""
        if self.keep_data:
            KEPT_ROOT.mkdir(parents=True, exist_ok=True)
            fd = os.open(KEPT_ROOT / f"{self.name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
            else:
                self._data_lock = fd
                kept = KEPT_ROOT / self.name
                # The lock is ours, so a daemon still on this data root is a killed run's.
                stop_daemons_using(kept)
                unmount_under(kept)
                return kept
        return self.root / "data"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"dockerd {self.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(Exception):
                self.client(timeout=5).ping()
                return
            time.sleep(0.2)
        raise RuntimeError(f"dockerd {self.name} did not answer within {timeout} s")

    def clear_objects(self) -> None:
        """Whatever an earlier run (perhaps killed) left in a kept data root."""
        client = self.client(timeout=120)
        if client.info()["Swarm"]["LocalNodeState"] != "inactive":
            client.swarm.leave(force=True)
        for container in client.containers.list(all=True):
            container.remove(force=True)
        client.volumes.prune()
        client.networks.prune()

    def ensure_image(self, image: str = LAB_IMAGE) -> float:
        """The machine's `image` in this engine, loaded only when missing or out of date.
        Returns the seconds spent loading (0 when the kept data root had it)."""
        wanted = docker.from_env(timeout=300).images.get(image).id
        client = self.client(timeout=300)
        with contextlib.suppress(docker.errors.ImageNotFound):
            if client.images.get(image).id == wanted:
                return 0.0
        started = time.monotonic()
        with open(cached_image(image), "rb") as archive:
            client.images.load(archive)
        client.images.prune(filters={"dangling": True})  # the image it replaced
        return time.monotonic() - started

    def stop(self, timeout: float = 30) -> None:
        """Stop this dockerd by its PID (SIGTERM, then SIGKILL); a no-op when it is gone."""
        pid = self.proc.pid if self.proc is not None else read_pid(self.pidfile)
        if pid:
            stop_pid(pid, timeout)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(1)

    def remove(self) -> None:
        """Stop the daemon, remove the scratch folder, give the kept data root back."""
        self.stop()
        unmount_under(self.root)
        if self.data_root is not None and self._data_lock is not None:
            unmount_under(self.data_root)
        shutil.rmtree(self.root, ignore_errors=True)
        if self._data_lock is not None:
            fd, self._data_lock = self._data_lock, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def log_tail(self, lines: int = 20) -> str:
        path = self.root / "log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def image_cache(image: str) -> Path:
    """The archive `image` is saved to: IMAGE_CACHE for the lab image, else one named by it."""
    if image == LAB_IMAGE:
        return IMAGE_CACHE
    slug = "".join(c if c.isalnum() else "-" for c in image)
    return IMAGE_CACHE.with_name(f"dshubtest-{slug}-image.tar")


def cached_image(image: str) -> Path:
    """`docker save` of the machine's image into its cache file, unless that holds its ID.

    Under a lock of its own: the swarm tests and the engine-restart test may ask at once from
    two workers, and two writers of one file made a broken archive."""
    image_id = docker.from_env(timeout=300).images.get(image).id
    cache = image_cache(image)
    stamp = cache.with_suffix(".id")
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.exists() and stamp.exists() and stamp.read_text() == image_id:
            return cache
        partial = cache.with_suffix(".partial")
        with open(partial, "wb") as out:
            subprocess.run(["docker", "save", image], stdout=out, check=True)
        partial.replace(cache)
        stamp.write_text(image_id)
    return cache


def stop_daemons_using(data_root: Path) -> None:
    """Stop (by PID) every dockerd whose data root is `data_root`."""
    wanted = f"--data-root {data_root} "
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            line = cmdline(int(entry.name))
            if line.startswith("dockerd ") and wanted in line:
                stop_pid(int(entry.name), 30)


def read_pid(pidfile: Path) -> int:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    with contextlib.suppress(OSError):
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    return False


def stop_pid(pid: int, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def unmount_under(root: Path) -> None:
    """Lazily unmount whatever a killed daemon left mounted under `root`, deepest first."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    prefix = str(root.resolve()) + "/"
    points = {line.split()[4] for line in lines if line.split()[4].startswith(prefix)}
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
