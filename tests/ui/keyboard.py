"""Keyboard-only steps for the UI tests: focus moves with Tab (never a click, never a script's
focus()), and what is focused is pressed with Enter or Space, as a keyboard user does."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

FOCUSED = "element => element === document.activeElement"


def tab_to(page: Page, target: Locator, presses: int = 80) -> None:
    """Press Tab until `target` has focus; fail if it never does.

    The target must be on the page first: a dialog fetched by the press before (the volume
    modal waits up to 3 s for its first sizes) was still on its way while all 80 presses went
    by on a loaded machine, and the test failed with the dialog opening just after."""
    target.wait_for(state="visible", timeout=30_000)
    for _ in range(presses):
        if target.count() and target.evaluate(FOCUSED):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{presses} presses of Tab never reached {target}")


def press(page: Page, target: Locator, key: str = "Enter") -> None:
    tab_to(page, target)
    page.keyboard.press(key)
