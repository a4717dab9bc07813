"""Playwright against the real hub in Debian's Chromium (no browser download of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# The hub does real work behind many expectations (a broadcast's 5 s delivery timeout, a page
# right after a hub restart) on a loaded 2-core machine: Playwright's 5 s default is too tight.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (scripts/setup.sh --browser)"
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1100, "height": 760}}


@pytest.fixture(autouse=True)
def close_what_the_test_opened(browser) -> Iterator[None]:
    """Close every page and context a test opened (most open theirs with `browser.new_page()`,
    which nothing closes for them). A page left open keeps its event stream and timers, and an
    admin page reloads its user table on every change the later tests make: Chromium and the
    hub then spend the rest of the pass on pages nobody looks at."""
    yield
    for context in browser.contexts:
        context.close()
