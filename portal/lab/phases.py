"""Owns spawn progress: the phases of a lab's start, for the hub's progress API and the card."""

from __future__ import annotations

import asyncio
from typing import Any

from ..platform.upstream import spawn_pending


class SpawnPhases:
    """Mixed into PortalSpawner ahead of DockerSpawner: each step names itself as it begins."""

    phase = ""
    phase_progress = 0

    def _set_phase(self, progress: int, message: str) -> None:
        self.phase_progress, self.phase = progress, message

    async def pull_image(self, image: str) -> None:
        self._set_phase(15, "Checking the lab image")
        await super().pull_image(image)  # type: ignore[misc]

    async def create_object(self) -> dict[str, Any]:
        self._set_phase(35, "Creating your container")
        return await super().create_object()  # type: ignore[misc]

    async def progress(self):  # noqa: ANN201 (an async generator, as JupyterHub expects)
        seen = ""
        while spawn_pending(self):
            if self.phase and self.phase != seen:
                seen = self.phase
                yield {"progress": self.phase_progress, "message": self.phase}
            await asyncio.sleep(0.25)

