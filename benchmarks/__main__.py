"""Run every benchmark, each under the shared engine lock of its own (others are not blocked for
the whole series), then print the report.

    .venv/bin/python -m benchmarks [--only responsiveness restart ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from .common import ROOT

LOCK = "/tmp/dshub-pytest.lock"
ALL = ["responsiveness", "portal_speed", "broadcast_fanout", "page_weight", "restart", "memory",
       "swarm_spawn"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=ALL, default=ALL)
    args = parser.parse_args()
    failed = []
    for name in args.only:
        print(f"\n=== {name} ===", flush=True)
        run = subprocess.run(["flock", LOCK, sys.executable, "-m", f"benchmarks.{name}"],
                             cwd=ROOT)
        if run.returncode:
            failed.append(name)
    subprocess.run([sys.executable, "-m", "benchmarks.report"], cwd=ROOT)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
