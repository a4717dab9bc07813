"""Owns spawn progress: the steps of a lab's start, for the hub's progress API and the card."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable


class SpawnSteps:
    """One spawner's current step; each step names itself as it begins."""

    def __init__(self) -> None:
        self.message = ""
        self.percent = 0

    def begin(self, percent: int, message: str) -> None:
        self.percent, self.message = percent, message

    async def events(self, pending: Callable[[], bool]) -> AsyncIterator[dict[str, object]]:
        """Each new step while `pending()` holds, as JupyterHub's progress events."""
        seen = ""
        while pending():
            if self.message and self.message != seen:
                seen = self.message
                yield {"progress": self.percent, "message": self.message}
            await asyncio.sleep(0.25)
