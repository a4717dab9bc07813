"""Test hubs started from a warm process: the hub's imports are paid once per test process.

A test run starts about seventy hubs. Each paid ~2 CPU-s importing JupyterHub, DockerSpawner,
NativeAuthenticator and the portal before it read its configuration: most of a start, on a
machine whose two cores are the run's limit. Here one process per pytest worker and virtual
environment (the *zygote*, this file run as a script) imports them once and forks a hub for
each start; the child sets up the environment, working directory, log and session a hub
started with `jupyterhub -f CONFIG` gets, then runs JupyterHub's own entry point. What follows
the imports (configuration, database, proxy, spawners) is the same code as a fresh process's.

The hub restart test (tests/integration/test_hub_restarts.py) starts its hubs as fresh
processes, as production does; so do the benchmarks, whose figures are a real start's.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ZYGOTE = Path(__file__).resolve()


class WarmHub:
    """A hub forked by the zygote, answering like the subprocess.Popen of a fresh one."""

    def __init__(self, pid: int, exit_path: Path) -> None:
        self.pid = pid
        self.exit_path = exit_path
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(FileNotFoundError, ValueError):
                self.returncode = int(self.exit_path.read_text())
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

    def __init__(self, venv_bin: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        self.proc = subprocess.Popen(
            [str(venv_bin / "python"), str(ZYGOTE)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env, text=True, start_new_session=True)
        self.lock = threading.Lock()
        self.exits = Path(tempfile.mkdtemp(prefix="dshub-warm-hubs-"))
        ready = self.proc.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"the warm hub process did not start ({ready!r})")

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
        return WarmHub(int(answer), exit_path)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_zygotes: dict[Path, Zygote] = {}


def launch(venv_bin: Path, argv: list[str], env: dict[str, str], cwd: Path,
           log_path: Path) -> WarmHub:
    """Fork a hub from this process's zygote of `venv_bin` (started on first use)."""
    if venv_bin not in _zygotes:
        _zygotes[venv_bin] = Zygote(venv_bin)
    return _zygotes[venv_bin].launch(argv, env, cwd, log_path)


def close_all() -> None:
    """End the zygotes (their hubs are stopped by tests/support/hub.py first: its exit hook
    is registered after this one, so it runs before)."""
    while _zygotes:
        _zygotes.popitem()[1].close()


atexit.register(close_all)


# --- the zygote itself -----------------------------------------------------------------------

def _record_exits(exits: dict[int, str], ended: dict[int, int]) -> None:
    """Reap every hub that ended; write its exit code (-N: killed by signal N) where the tests
    look, once the hub's path is known (a hub can end before its fork returned here).
    SIGCHLD waits meanwhile: its handler calls this too."""
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
    try:
        with contextlib.suppress(ChildProcessError):
            while (reaped := os.waitpid(-1, os.WNOHANG))[0]:
                ended[reaped[0]] = os.waitstatus_to_exitcode(reaped[1])
        for pid in [pid for pid in ended if pid in exits]:
            path = exits.pop(pid)
            Path(path + ".tmp").write_text(str(ended.pop(pid)))
            os.replace(path + ".tmp", path)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])


def _run_hub(request: dict) -> None:
    """In the forked child: become what `jupyterhub -f CONFIG` started by the tests would be."""
    import faulthandler
    import random

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the hub waits for its own children
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
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
    code = 1
    try:
        from jupyterhub.app import main

        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        # What a fresh process does at its end (JupyterHub's own exit hooks, logging's flush);
        # then leave without returning into the zygote's loop.
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


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
    signal.signal(signal.SIGCHLD, lambda *_: _record_exits(exits, ended))
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _run_hub(request)
        exits[pid] = request["exit"]
        _record_exits(exits, ended)
        print(pid, flush=True)


if __name__ == "__main__":
    _serve()
