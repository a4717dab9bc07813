"""Owns the environments admins define: rows in the portal's store, read from memory (loaded
once) by starts and cards; every change audited; an image refused unless every engine that runs
labs holds it (nothing is pulled); the first ones from the configuration
(`c.Environments.initial`), added while the store holds none.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from jupyterhub import orm
from sqlalchemy import select
from traitlets import Dict, List
from traitlets.config import LoggingConfigurable

from ..audit.log import SYSTEM_ACTOR, AuditLog, EventKind
from ..docker.service import DockerService
from ..lab.hooks import LabEnvironment
from ..platform.errors import ActionRefused, DockerUnavailable
from ..platform.logs import portal_logger
from ..store.database import PortalStore
from ..store.tables import EnvironmentRow
from .environments import Environment, capped, chosen_name, from_row, parse_environment, pick
from .gpu import GpuService
from .limits import Limits, LimitsService

log = portal_logger("environments")
# Where labs run, in words, and the engine there: one engine, or each usable Swarm node.
ImageEngines = Callable[[], Awaitable[list[tuple[str, DockerService]]]]
HOW_TO_GET_IT = ("Build it there (scripts/build-images.sh builds dshub-lab and dshub-lab-noext) "
                 "or load it (docker load -i <file>) on that engine; DS Hub pulls nothing.")


class Environments(LoggingConfigurable):
    """`c.Environments.initial`: the hub's first environments (read by portal.setup)."""

    initial = List(
        Dict(), help="Environments added at a hub start while the portal's store holds none, "
        "each {name, description, image, memory, cpus, gpu, variables, groups} as the admin "
        "page and the JSON API take them. Afterwards admins keep them in the portal.",
    ).tag(config=True)


class EnvironmentService:
    def __init__(self, store: PortalStore, audit: AuditLog, limits: LimitsService,
                 gpu: GpuService, image_engines: ImageEngines) -> None:
        self.store, self.audit, self.limits, self.gpu = store, audit, limits, gpu
        self.image_engines = image_engines
        self._known: dict[str, Environment] | None = None

    async def all(self) -> list[Environment]:
        """Every environment, by name (the first one a user may use is their default)."""
        if self._known is None:
            def load() -> dict[str, Environment]:
                with self.store.session() as db:
                    return {r.name: from_row(r.name, r.description, r.image, r.memory, r.cpus,
                                             r.gpu, r.variables, r.groups)
                            for r in db.scalars(select(EnvironmentRow))}

            self._known = await self.store.run(load)
        return sorted(self._known.values(), key=lambda e: e.name)

    async def usable_by(self, groups: Iterable[str]) -> list[Environment]:
        names = set(groups)
        return [e for e in await self.all() if e.open_to(names)]

    async def choose(self, options: Any, groups: Iterable[str]) -> Environment | None:
        """The environment a start's user options ask for (400 if unknown or forbidden)."""
        return pick(await self.all(), set(groups), chosen_name(options))

    async def for_start(self, options: Any, groups: set[str]) -> LabEnvironment | None:
        """What the spawner starts from (its ENVIRONMENT hook): limits capped by the groups'."""
        chosen = await self.choose(options, groups)
        if chosen is None:
            return None
        limits = capped(chosen.limits, await self.limits.for_groups(groups))
        return LabEnvironment(chosen.name, chosen.image, limits.memory, limits.cpus, chosen.gpu,
                              dict(chosen.variables))

    async def limits_of(self, name: str, groups: Iterable[str]) -> Limits:
        """A lab's limits: its environment's under the groups' caps, or the groups' alone."""
        groups = set(groups)
        known = {e.name: e for e in await self.all()}
        own = await self.limits.for_groups(groups)
        return capped(known[name].limits, own) if name in known else own

    async def save(self, db: Any, actor: str, raw: Mapping[str, Any]) -> Environment:
        """Add or replace an environment; bad input (a 4xx with a sentence) changes nothing."""
        env = parse_environment(raw)
        missing = [g for g in env.groups if orm.Group.find(db, g) is None]
        if missing:
            raise ActionRefused(f"There is no group named {missing[0][:80]!r}: create it first, "
                                "or leave groups empty for everyone.", 400)
        status = self.gpu.status
        if env.gpu and status is not None and not status.enabled:
            raise ActionRefused(f"This hub gives labs no GPU ({status.reason}) Save the "
                                "environment without GPU, or turn GPU support on.", 400)
        if (refusal := await self.missing_image(env.image)) is not None:
            raise ActionRefused(refusal, 400)
        known = {e.name: e for e in await self.all()}
        before = known.get(env.name)
        await self.store.put_row(EnvironmentRow, env.name, {
            "description": env.description, "image": env.image, "memory": env.memory,
            "cpus": env.cpus, "gpu": env.gpu, "variables": json.dumps(dict(env.variables)),
            "groups": json.dumps(list(env.groups)), "changed": datetime.now(UTC),
            "changed_by": actor})
        assert self._known is not None  # loaded by all()
        self._known[env.name] = env
        detail = (f"added: {env.words()}" if before is None
                  else f"changed: {before.words()} -> {env.words()}")
        await self.audit.record(actor, EventKind.ENVIRONMENT, env.name, detail)
        return env

    async def remove(self, actor: str, name: str) -> Environment:
        known = {e.name: e for e in await self.all()}
        if name not in known:
            raise ActionRefused(f"There is no environment named {name[:80]!r}.", 404)
        await self.store.put_row(EnvironmentRow, name, None)
        assert self._known is not None
        gone = self._known.pop(name)
        await self.audit.record(actor, EventKind.ENVIRONMENT, name,
                                f"removed: {gone.words()}; running labs keep it until they stop")
        return gone

    async def missing_image(self, image: str) -> str | None:
        """A sentence saying where `image` is missing and how to get it there; None if every
        engine that runs labs holds it. An engine that does not answer is a 503."""
        missing = []
        for where, engine in await self.image_engines():
            try:
                if not await engine.image_present(image):
                    missing.append(where)
            except DockerUnavailable as e:
                raise ActionRefused(f"Cannot check for the image {image} on {where}: "
                                    f"{e.message}", 503) from None
        if not missing:
            return None
        return f"The image {image} is not on {' or '.join(missing)}. {HOW_TO_GET_IT}"

    async def add_initial(self, db: Any, configured: list[dict[str, Any]]) -> None:
        """The configuration's first environments, while the store holds none (hub start)."""
        if not configured or await self.all():
            return
        for raw in configured:
            try:
                env = await self.save(db, SYSTEM_ACTOR, raw)
                log.info("Environment %s added from c.Environments.initial", env.name)
            except ActionRefused as e:
                log.error("c.Environments.initial: %r not added: %s",
                          str(raw.get("name", "?"))[:64] if isinstance(raw, dict) else raw,
                          e.message)
