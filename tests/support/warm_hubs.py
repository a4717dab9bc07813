"""Test hubs started from a warm process: the hub's imports are paid once per test process.

A test run starts about seventy hubs. Each paid ~2 CPU-s importing JupyterHub, DockerSpawner,
NativeAuthenticator and the portal before it read its configuration: most of a start, on a
machine whose two cores are the run's limit. Here one process per pytest worker and virtual
environment (the *zygote*, this file run as a script) imports them once and forks a hub for
each start; the child sets up the environment, working directory, log and session a hub
started with `jupyterhub -f CONFIG` gets, then runs JupyterHub's own entry point and ends as
an interpreter does (waiting for its threads, then its exit hooks). What follows the imports
(configuration, database, proxy, spawners) is the same code as a fresh process's.

What a forked hub shares with the zygote instead: what modules read from the environment when
imported (JupyterHub's metrics prefix and buckets; none of the portal's modules reads any), so
the zygote gets the environment `Hub.env()` starts from (no ENABLE_, JUPYTERHUB_, PORTAL_
variables), and a hub whose PYTHON* variables differ gets a zygote of its own; and the hash
seed of str and bytes, the same in every hub of one zygote.

The hub restart test (tests/integration/test_hub_restarts.py) starts its hubs as fresh
processes, as production does; so do the benchmarks' full runs, whose figures are a real
start's (their quick runs, which keep no figure, use warm hubs).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ZYGOTE = Path(__file__).resolve()
# Read by the interpreter or at import: a hub with other values needs a zygote of its own.
# (PYTHONFAULTHANDLER is the child's own: it turns the fault handler on.)
IMPORT_TIME = ("PYTHON",)
PER_HUB = ("PYTHONFAULTHANDLER",)
# Given to each hub by Hub.env(), never read at import.
NOT_INHERITED = ("ENABLE_", "JUPYTERHUB_", "PORTAL_", "PYTEST_")
GONE = 255  # the exit code reported when the zygote that could tell the real one is gone


def _import_time(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in env.items()
                        if k.startswith(IMPORT_TIME) and k not in PER_HUB))


class WarmHub:
    """A hub forked by the zygote, answering like the subprocess.Popen of a fresh one."""

    def __init__(self, pid: int, exit_path: Path, zygote: Zygote) -> None:
        self.pid = pid
        self.exit_path = exit_path
        self.zygote = zygote
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(FileNotFoundError, ValueError):
                self.returncode = int(self.exit_path.read_text())
        # With the zygote gone nobody reaps it with its status: its end is all that is known.
        if (self.returncode is None and not self.zygote.alive()
                and not Path(f"/proc/{self.pid}").exists()):
            self.returncode = GONE
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"hub {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode


class Zygote:
    """One warm process of a virtual environment; forks hubs on request."""

    def __init__(self, venv_bin: Path, import_time: tuple[tuple[str, str], ...]) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith((*NOT_INHERITED, *IMPORT_TIME))}
        env.update(import_time)
        self.proc = subprocess.Popen(
            [str(venv_bin / "python"), str(ZYGOTE)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env, text=True, start_new_session=True)
        self.lock = threading.Lock()
        self.exits = Path(tempfile.mkdtemp(prefix="dshub-warm-hubs-"))
        ready = self.proc.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"the warm hub process did not start ({ready!r})")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def launch(self, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path,
               ) -> WarmHub:
        exit_path = self.exits / f"{time.monotonic_ns()}.exit"
        request = {"argv": argv, "env": env, "cwd": str(cwd), "log": str(log_path),
                   "exit": str(exit_path)}
        with self.lock:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline().strip()
        if not answer.isdigit():
            raise RuntimeError(f"the warm hub process did not fork a hub ({answer!r})")
        return WarmHub(int(answer), exit_path, self)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.exits, ignore_errors=True)


_zygotes: dict[tuple, Zygote] = {}


def launch(venv_bin: Path, argv: list[str], env: dict[str, str], cwd: Path,
           log_path: Path) -> WarmHub:
    """Fork a hub from this process's zygote of `venv_bin` and the hub's import-time
    environment (started on first use, and again if it ended)."""
    key = (venv_bin, _import_time(env))
    if key not in _zygotes or not _zygotes[key].alive():
        _zygotes[key] = Zygote(venv_bin, key[1])
    return _zygotes[key].launch(argv, env, cwd, log_path)


def close_all() -> None:
    """End the zygotes (tests/support/hub.py's stop_every_hub stops their hubs first)."""
    while _zygotes:
        _zygotes.popitem()[1].close()


# --- the zygote itself -----------------------------------------------------------------------

def _record_exits(exits: dict[int, str], ended: dict[int, int]) -> None:
    """Reap every hub that ended; write its exit code (-N: killed by signal N) where the tests
    look, once the hub's path is known (a hub can end before its fork returned here). Called
    from the zygote's loop only (a SIGCHLD just wakes that loop), so never re-entered."""
    with contextlib.suppress(ChildProcessError):
        while (reaped := os.waitpid(-1, os.WNOHANG))[0]:
            ended[reaped[0]] = os.waitstatus_to_exitcode(reaped[1])
    for pid in [pid for pid in ended if pid in exits]:
        path = exits.pop(pid)
        Path(path + ".tmp").write_text(str(ended.pop(pid)))
        os.replace(path + ".tmp", path)


def _become_hub(request: dict, wake: tuple[int, int]) -> None:
    """In the forked child: become what `jupyterhub -f CONFIG` started by the tests would be."""
    import faulthandler
    import random

    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the hub waits for its own children
    for fd in wake:
        os.close(fd)
    os.setsid()
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    random.seed()  # not the zygote's sequence, shared by every hub it forks
    if os.environ.get("PYTHONFAULTHANDLER"):
        faulthandler.enable()


def _serve() -> None:
    # Imports resolve as for the `jupyterhub` script, whose folder (not tests/support, this
    # script's) comes first on the path.
    sys.path[0] = str(Path(sys.executable).parent)
    # What every hub imports before it reads its configuration.
    import dockerspawner  # noqa: F401
    import jupyterhub.app  # noqa: F401
    import nativeauthenticator  # noqa: F401

    import portal.hub_setup  # noqa: F401

    assert threading.active_count() == 1, "no thread may run in a process that forks"
    exits: dict[int, str] = {}
    ended: dict[int, int] = {}
    # A hub's end wakes the loop below through this pipe; the handler itself does nothing.
    wake = os.pipe()
    os.set_blocking(wake[0], False)
    os.set_blocking(wake[1], False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake[1])
    print("ready", flush=True)
    pending = b""
    while True:
        readable, _, _ = select.select([0, wake[0]], [], [], 1.0)
        with contextlib.suppress(BlockingIOError):
            os.read(wake[0], 512)
        _record_exits(exits, ended)
        if 0 not in readable:
            continue
        data = os.read(0, 65536)
        if not data:
            return  # the test process closed its end: no more hubs
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _become_hub(request, wake)
                from jupyterhub.app import main

                sys.exit(main())  # as the `jupyterhub` script does
            exits[pid] = request["exit"]
            _record_exits(exits, ended)
            print(pid, flush=True)


if __name__ == "__main__":
    _serve()
