"""Run every benchmark: full size (each under the shared engine lock of its own, then the
report), or `--quick` (tiny sizes, seconds each, no results written; what CI runs).

    .venv/bin/python -m benchmarks [--only responsiveness restart ...]
    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks --quick

`--quick` takes no lock itself (the caller holds it: scripts/test.sh runs it inside the lock of
its pytest session) and exits 1 if any benchmark broke, naming each and why.
"""

from __future__ import annotations

import argparse
import importlib
import re
import resource
import subprocess
import sys
import time

from .common import ROOT, run

LOCK = "/tmp/dshub-pytest.lock"

# Every benchmark: benchmarks/<name>.py, whose main() reads its options with
# common.arguments(parser, QUICK) and which ends with `run(main)`. Adding one here is all it
# takes for `python -m benchmarks` and CI's quick run to include it.
BENCHMARKS = [
    "responsiveness",
    "portal_speed",
    "broadcast_fanout",
    "page_weight",
    "restart",
    "memory",
    "admin_scale",
    "volume_modal",
    "signin_abuse",
    "usage_collection",
    "culling_pass",
    "swarm_spawn",
    "batch_accounts",
    "usage_history",
    "hub_scale",
    "named_scale",
    "swarm_usage",
]
# Runnable modules that are not benchmarks (quick mode runs the report over the stored results;
# `child` runs the benchmarks' helper processes).
TOOLS = ["report", "child"]


def unlisted() -> list[str]:
    """Runnable modules of benchmarks/ in neither list (a benchmark nobody would run)."""
    found = []
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        runnable = re.search(r"^if __name__ == .__main__.:", path.read_text(), re.MULTILINE)
        if runnable and path.stem not in (*BENCHMARKS, *TOOLS, "__main__"):
            found.append(path.stem)
    return found


def _children_cpu() -> float:
    """CPU seconds of every child process waited for so far (the hubs a benchmark starts are
    its children, so they count; the labs' containers do not)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def step(module: str, *args: str, lock: bool = False,
         quiet: bool = False) -> tuple[int, float, float]:
    """Run `python -m benchmarks.<module>`: (exit status, seconds, CPU seconds)."""
    command = [sys.executable, "-m", f"benchmarks.{module}", *args]
    t0, cpu0 = time.monotonic(), _children_cpu()
    done = subprocess.run(["flock", LOCK, *command] if lock else command, cwd=ROOT,
                          stdout=subprocess.DEVNULL if quiet else None)
    return done.returncode, time.monotonic() - t0, _children_cpu() - cpu0


def _own_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def quick_step(module: str) -> tuple[int, float, float]:
    """One benchmark's quick run in this process: (exit status, seconds, CPU seconds, this
    process's and its children's). A process each (`step`) cost 1.5-2.5 CPU-s of imports
    (docker, SQLAlchemy, JupyterHub's utilities), most of them the same for every benchmark;
    a full run keeps a process each."""
    t0, cpu0 = time.monotonic(), _own_cpu() + _children_cpu()
    sys.argv = [f"benchmarks.{module}", "--quick"]
    code = 0
    try:
        run(importlib.import_module(f"benchmarks.{module}").main, f"benchmarks.{module}")
    except SystemExit as e:  # run() ends a failure so, its last line saying why
        if e.code:
            print(e.code if isinstance(e.code, str) else "", file=sys.stderr, flush=True)
            code = e.code if isinstance(e.code, int) else 1
    sys.stdout.flush()
    return code, time.monotonic() - t0, _own_cpu() + _children_cpu() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=BENCHMARKS)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, no results written; the caller holds the lock")
    args = parser.parse_args()
    failed = [f"benchmarks/{name}.py is runnable but not in BENCHMARKS or TOOLS "
              "(benchmarks/__main__.py)" for name in unlisted()]
    if args.quick:
        # Quick runs keep no figure: their hubs are forked from a process that imported the
        # hub once (tests/support/warm_hubs.py), like the tests'. Full runs start each hub as a
        # fresh process, whose start, memory and CPU are the figures. (A benchmark's CPU below
        # then leaves out its hubs: they are the warm process's children.)
        from tests.support.hub import Hub

        Hub.warm_start = True
    times = []
    for name in args.only:
        print(f"\n=== {name}{' (quick)' if args.quick else ''} ===", flush=True)
        code, seconds, cpu = quick_step(name) if args.quick else step(name, lock=True)
        times.append(f"{name} {seconds:.0f} s ({cpu:.0f} CPU-s)")
        if code:
            failed.append(f"{name} (exit status {code}; its last line above says why)")
    if args.quick:  # the warm process's hubs count among its children once it ends
        from tests.support.hub import stop_every_hub

        stop_every_hub()  # one a benchmark left running, then the warm process
        times.append(f"all together {_own_cpu() + _children_cpu():.0f} CPU-s with the hubs")
    # The report reads the stored results: in quick mode only whether it still can.
    code, _, _ = step("report", quiet=args.quick)
    if code:
        failed.append(f"report (exit status {code})")
    print(f"\nbenchmarks{' (quick)' if args.quick else ''}: {', '.join(times)}")
    if failed:
        sys.exit("broken benchmarks:\n  " + "\n  ".join(failed))
    print("every benchmark ran")


if __name__ == "__main__":
    main()
