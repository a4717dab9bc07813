"""The order in which pytest-xdist hands test files to its workers: the longest first.

With `--dist loadfile` a file is one unit of work. pytest-xdist queues files by their number of
tests unless told otherwise (scripts/test.sh passes --no-loadscope-reorder), which puts a file
with one two-minute test last: the other worker then sat idle for two minutes at the end of the
run. Starting the long files first lets the short ones fill in around them, so the workers end
together. The order changes only how long a run takes, never what it checks.
"""

from __future__ import annotations

import pytest

# Measured beside the rest of the suite on a 2-core machine (--durations in the run's log),
# longest first (a run of 2026-12-07). Files not named keep their collection order, after these.
LONGEST_FIRST = (
    # tests/integration
    "test_swarm.py",  # about 7 minutes of one worker: a 2-node Swarm, two environments
    "test_metrics.py",  # waits minutes for Docker's volume sizes: overlapped from the start
    "test_docker_races.py",
    "test_gate.py",
    "test_spawn.py",
    "test_hardening.py",
    "test_portal_actions.py",
    "test_named_servers.py",
    "test_hub_restarts.py",
    "test_pushed_updates.py",
    "test_engine_restart.py",
    "test_account_deletion.py",
    "test_production.py",
    "test_tls_logo.py",
    "test_broadcast.py",
    "test_usage.py",
    "test_gpu.py",
    "test_user_table.py",
    "test_limits.py",
    "test_engine_paths.py",
    # tests/ui
    "test_admin_console_ui.py",  # one walk: pages, axe-core, themes, a phone
    "test_workspace_walk_ui.py",  # one walk: environments, a second server, a share
    "test_broadcast_ui.py",
    "test_image_updates_ui.py",
    "test_idle_culling_ui.py",
    "test_pushed_updates_ui.py",
    "test_lab_origin.py",
    "test_portal_actions_ui.py",
    "test_signup_to_lab.py",
    "test_logo_inert.py",
)
_RANK = {name: rank for rank, name in enumerate(LONGEST_FIRST)}


def longest_first(items: list[pytest.Item]) -> None:
    """Sort `items` in place: files of LONGEST_FIRST in its order, then the rest as collected
    (a stable sort keeps each file's own order of tests)."""
    items.sort(key=lambda item: _RANK.get(item.path.name, len(_RANK)))
