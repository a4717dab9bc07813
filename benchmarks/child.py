"""Helper processes of the benchmarks (the prober, the stand-ins, the floods): each a plain
`python -m benchmarks.child module:function ARGS` of its own.

Not multiprocessing's spawn: a spawned child imports the parent's `__main__` first (the
benchmark module, with docker, requests, SQLAlchemy...: 1-2.5 CPU-s each time on this
machine's cores), and a quick run started some 40 of them. This child imports only the module
of its function.

The function is `async def work(*args, stop: asyncio.Event, report) -> result`: `report(x)`
sends a first message (ready, or the ports it listens on); `stop` is set when the parent
closes the child's stdin; the return value is the last message. Messages are JSON lines on
the child's stdout (its stderr is the parent's).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class Child:
    """`Child("benchmarks.prober:probe_loop", [args])`: `start()`, `receive()`, `finish()`."""

    def __init__(self, function: str, args: Sequence[Any], name: str) -> None:
        self.function, self.args, self.name = function, list(args), name
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> Child:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.child", self.function, json.dumps(self.args)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True, name=f"{self.name}-reader").start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(None)  # the child ended

    def receive(self, timeout: float) -> Any:
        """The child's next message; RuntimeError when none comes in `timeout` seconds."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            line = None
        if line is None:
            raise RuntimeError(f"the {self.name} process sent nothing in {timeout:.0f} s "
                               "(its error, if any, is above)")
        return json.loads(line)

    def finish(self, timeout: float) -> Any:
        """Tell the child to stop (stdin closed); its result, or None if it sent none."""
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            result = self.receive(timeout)
        except RuntimeError:
            result = None
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        return result


async def _serve(function: str, args: list[Any]) -> None:
    module, _, name = function.partition(":")
    work = getattr(importlib.import_module(module), name)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_stdin() -> None:
        if not sys.stdin.buffer.raw.read(4096):  # EOF: the parent said stop (or died)
            loop.remove_reader(sys.stdin.fileno())
            stop.set()

    def report(message: Any) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    report(await work(*args, stop=stop, report=report))


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], json.loads(sys.argv[2])))
