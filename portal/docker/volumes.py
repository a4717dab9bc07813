"""Owns the Docker calls on volumes: listing, sizes, labels, copies, removal.

A mixin of DockerService (portal/docker/service.py), which provides `_api()`, `_run()` and the
two pools: sizes and listings run on the sizes pool, so however often the volume modal opens,
starts, restarts and resets never wait behind them.
"""

from __future__ import annotations

from typing import Any

from docker.errors import APIError, NotFound

from .calls import EngineCalls
from .types import DockerRefused, VolumeInUse, explain


class DockerVolumes(EngineCalls):
    async def existing_volumes(self) -> set[str]:
        """Names of every volume on the engine (one cheap list call, on the sizes pool)."""

        def names() -> set[str]:
            return {v["Name"] for v in (self._api().volumes().get("Volumes") or [])}

        return await self._run(names, bound=15, pool=self._sizes_pool)


    async def volume_usage(self) -> dict[str, int]:
        """Size on disk of every volume (`docker system df`): walks every volume on the host,
        seconds with many files. Runs on the sizes pool, never in the actions' pool; callers
        cache it (portal/lab/volume_sizes.py)."""

        def usage() -> dict[str, int]:
            found = {}
            for v in self._api().df().get("Volumes") or []:
                size = (v.get("UsageData") or {}).get("Size", -1)
                if size is not None and size >= 0:
                    found[v["Name"]] = size
            return found

        return await self._run(usage, bound=120, pool=self._sizes_pool)


    async def remove_volume(self, name: str) -> bool:
        """Remove a volume; False if it did not exist; VolumeInUse if a container holds it."""

        def remove() -> bool:
            try:
                self._api().remove_volume(name)
                return True
            except NotFound:
                return False
            except APIError as e:
                if e.status_code == 409:
                    raise VolumeInUse(explain(e)) from None
                raise

        return await self._run(remove, bound=120)


    async def create_volume(self, name: str, labels: dict[str, str], driver: str | None = None,
                            driver_opts: dict[str, str] | None = None) -> None:
        """Create a volume (the engine hands an existing one back unchanged)."""

        def create() -> None:
            self._api().create_volume(name, driver=driver, driver_opts=driver_opts,
                                      labels=labels)

        await self._run(create, bound=30)


    async def volume_labels(self, name: str) -> dict[str, str] | None:
        """A volume's labels ({} when it has none), or None when there is no such volume."""

        def inspect() -> dict[str, str] | None:
            try:
                return self._api().inspect_volume(name).get("Labels") or {}
            except NotFound:
                return None

        return await self._run(inspect, bound=15)


    async def labelled_volumes(self, label: str) -> list[dict[str, Any]]:
        """Every volume carrying `label` (any value): [{"Name", "Labels", "CreatedAt"}, ...]."""

        def find() -> list[dict[str, Any]]:
            found = self._api().volumes(filters={"label": label}).get("Volumes") or []
            return [{"Name": v["Name"], "Labels": v.get("Labels") or {},
                     "CreatedAt": v.get("CreatedAt", "")} for v in found]

        return await self._run(find, bound=15)


    async def copy_volume(self, source: str, target: str, labels: dict[str, str], image: str,
                          bound: float = 600) -> None:
        """Create `target` with `labels` and copy every file of `source` into it (owners,
        modes and times kept) with a short-lived container of `image`; `source` stays."""
        name = f"{target}-copy"[:200]

        def copy() -> None:
            api = self._api()
            api.create_volume(target, labels=labels)
            host_config = api.create_host_config(binds={source: {"bind": "/from", "mode": "ro"},
                                                        target: {"bind": "/to", "mode": "rw"}})
            api.create_container(image, ["-c", "cp -a /from/. /to/"], name=name, user="0",
                                 entrypoint=["/bin/sh"], host_config=host_config,
                                 network_disabled=True)
            try:
                api.start(name)
                status = api.wait(name, timeout=bound)
                if status.get("StatusCode") != 0:
                    logs = api.logs(name, tail=5).decode(errors="replace").strip()
                    raise DockerRefused(f"copying {source} failed: {logs}")
            finally:
                api.remove_container(name, force=True)

        await self._run(copy, bound=bound + 30)


    async def containers_using(self, volume: str) -> list[str]:
        """Names of containers (running or not) that mount the volume."""

        def find() -> list[str]:
            found = self._api().containers(all=True, filters={"volume": volume})
            return [c["Names"][0].lstrip("/") for c in found if c.get("Names")]

        return await self._run(find, bound=15)
