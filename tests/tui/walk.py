"""Driving the wizard in tests: go to a page, type, wait for the run."""
from __future__ import annotations

import time

from installer.tui.apply import ApplyPage


async def wait_for(pilot, condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting; screen is " + type(pilot.app.screen).__name__)
        await pilot.pause(0.02)


async def at_page(pilot, page_cls):
    await wait_for(pilot, lambda: type(pilot.app.screen) is page_cls)
    await pilot.pause()


async def goto(pilot, page_cls, limit: int = 14):
    """Press Ctrl+N until *page_cls* is on screen (fails if Next is stuck)."""
    await wait_for(pilot, lambda: pilot.app.screen is not None and hasattr(pilot.app.screen, "state"))
    for _ in range(limit):
        if type(pilot.app.screen) is page_cls:
            await pilot.pause()
            return pilot.app.screen
        before = pilot.app.screen
        if before.query("#next") and before.query_one("#next").disabled:
            raise AssertionError(f"Next is disabled on {type(before).__name__}:\n" + screen_text(pilot))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: pilot.app.screen is not before)
    raise AssertionError(f"never reached {page_cls.__name__}")


async def set_input(pilot, selector: str, text: str):
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    widget.value = ""
    await pilot.pause()
    await pilot.press(*list(text)) if text else None
    await pilot.pause()
    return widget


async def apply_from_review(pilot):
    """On the Review page: Next, confirm Apply, wait for the run to end."""
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: pilot.app.screen.id == "apply-dialog")
    await pilot.click("#answer-apply")
    await at_page(pilot, ApplyPage)
    page = pilot.app.screen
    await wait_for(pilot, lambda: not page.running and (page.finished_at is not None or page.failure is not None),
                   timeout=30)
    await pilot.pause()
    return page


def next_enabled(pilot) -> bool:
    return not pilot.app.screen.query_one("#next").disabled


def screen_text(pilot) -> str:
    """Every Static's text on the screen, joined (for asserting on words)."""
    from textual.widgets import Static
    parts = []
    for widget in pilot.app.screen.query(Static):
        parts.append(str(widget.render()))
    return "\n".join(parts)
