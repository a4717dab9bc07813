"""Owns which environment a spawner's lab runs: the one its start chose (or the configured
image when none), its variables, and the name kept in the hub's spawner state.

The name stays in the state after a stop: it is the user's last environment, which the card
offers first at the next start. The spawner holds one of these; the choice itself (validated,
its limits capped by the groups') comes from the ENVIRONMENT hook (hooks.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tornado import web

from ..platform.errors import ActionRefused
from .hooks import LabEnvironment

Choose = Callable[[dict[str, Any], set[str]], Awaitable[LabEnvironment | None]]
Limits = Callable[[set[str]], Awaitable[Any]]  # the groups' Limits (governance/limits.py)
Pair = tuple[int | None, float | None]  # memory (bytes), CPUs; None: no limit

STATE_KEY = "environment"
IMAGE_KEY = "image"  # the reference the running container was created from


def apply_user_options(spawner: Any, options: dict[str, Any]) -> None:
    """JupyterHub's user-options hook (`Spawner.apply_user_options`): the environment is taken
    by the start itself (the ENVIRONMENT hook); any other key is named in the log, as the hub
    does without a hook ("user_options" is 5.5's REST body nesting them)."""
    unknown = sorted(set(options or {}) - {STATE_KEY, "user_options"})
    if unknown:
        spawner.log.warning("Received unhandled user_options for %s: %s", spawner.user.name,
                            ", ".join(unknown))


def choice_refused(refusal: ActionRefused) -> web.HTTPError:
    """A refused choice as JupyterHub's start page shows it: its own words with a 400 (any
    other error there is an "Unhandled error" 500). The card and the REST API check the choice
    before starting, so they meet this only when an environment changes in between."""
    error = web.HTTPError(400, "%s", str(refusal))
    error.jupyterhub_message = str(refusal)
    return error


class ChosenEnvironment:
    def __init__(self, configured_image: str) -> None:
        self.configured_image = configured_image  # the image without environments
        self.applied: str | None = None  # the image the last start's environment put in place
        self.current: LabEnvironment | None = None  # this start's (None: the configured image)
        self.name = ""  # the last start's environment, as the state keeps it ("": none)
        # The image reference the last start created its container from (kept in the state:
        # after a hub restart, the images admins see in use compare its tag with the container).
        self.started_from = ""

    async def choose(self, hook: Choose | None, options: dict[str, Any] | None,
                     groups: set[str], image: str | None = None) -> str:
        """This start's environment (the hook refuses a bad choice); the image to create the
        container from. `image`: the spawner's image as the configuration and the hub's
        pre-spawn hook left it for this start; without an environment it stays (only what an
        earlier start's environment put there is undone)."""
        if image is not None and image != self.applied:
            self.configured_image = image
        try:
            chosen = None if hook is None else await hook(options or {}, groups)
        except ActionRefused as refusal:
            raise choice_refused(refusal) from None
        self.current, self.name = chosen, chosen.name if chosen else ""
        self.applied = chosen.image if chosen else None
        self.started_from = chosen.image if chosen else self.configured_image
        return self.started_from

    @property
    def gpu(self) -> bool:
        """May this start have GPUs (when the hub gives them)? Without an environment, yes."""
        return self.current is None or self.current.gpu

    async def limits(self, policy: Limits | None, groups: set[str],
                     unchanged: Pair) -> Pair:
        """(memory, CPUs) for this start: the environment's, already capped by the groups';
        else the groups' own (the LIMITS_POLICY hook); else (plain use) `unchanged`."""
        if self.current is not None:
            return self.current.memory, self.current.cpus
        if policy is None:
            return unchanged
        found = await policy(groups)
        return found.memory, found.cpus

    @property
    def variables(self) -> dict[str, str]:
        return dict(self.current.variables) if self.current else {}

    def saved(self, state: dict[str, Any]) -> dict[str, Any]:
        """The spawner's state with the environment's name (kept after a stop: the last one)."""
        kept = {STATE_KEY: self.name, IMAGE_KEY: self.started_from}
        return {**state, **{key: value for key, value in kept.items() if value}}

    def load(self, state: dict[str, Any]) -> None:
        self.name = str(state.get(STATE_KEY) or self.name)
        self.started_from = str(state.get(IMAGE_KEY) or self.started_from)
