"""Owns what an environment is and its rules, pure: reading one from a form or JSON (a sentence
for each bad field), who may choose it, its limits under the groups' caps, and the choice a
start's user options name.

An environment is what a lab starts from: an image, default limits, GPU or not, extra
variables, and the groups that may choose it (none listed: everyone). Its limits are defaults
the user's groups still cap (governance/limits.py): the lower of the two wins, "no limit" on
either side leaves the other's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..platform import settings_parsers as parsers
from ..platform.errors import ActionRefused
from .limits import Limits, human_size, parse_limit

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# A Docker image reference: [registry[:port]/]path[:tag][@digest]; no spaces, no scheme.
IMAGE = re.compile(r"([a-z0-9][a-z0-9.-]{0,200}:[0-9]{1,5}/)?[a-z0-9][a-z0-9._/-]{0,200}"
                   r"(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?")
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# The hub's own variables (the lab's token and URLs) and the portal's (GPU decision, limits):
# an environment may not change what the lab is told about itself.
RESERVED_PREFIXES = ("JUPYTERHUB_", "JPY_")
RESERVED = frozenset({"ENABLE_GPU_SUPPORT", "NVIDIA_DETECTED", "MEM_LIMIT", "CPU_LIMIT"})
MAX_VARIABLES, MAX_VALUE, MAX_DESCRIPTION = 50, 4096, 500
FIELDS = frozenset({"name", "description", "image", "memory", "cpus", "gpu", "variables",
                    "groups"})
NONE_WORDS = ("", "none", "no limit", "default")
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class Environment:
    name: str
    description: str
    image: str
    memory: int | None = None  # bytes; None: no default of its own (the groups' apply)
    cpus: float | None = None
    gpu: bool = False
    variables: Mapping[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()  # who may choose it; (): everyone

    def open_to(self, groups: Iterable[str]) -> bool:
        return not self.groups or not set(self.groups).isdisjoint(groups)

    @property
    def limits(self) -> Limits:
        return Limits(self.memory, self.cpus)

    def words(self) -> str:
        """One line for the event log: what a lab started from it gets."""
        memory = human_size(self.memory) if self.memory else "no memory default"
        cpus = f"{self.cpus:g} CPUs" if self.cpus else "no CPU default"
        who = ", ".join(self.groups) if self.groups else "everyone"
        names = ", ".join(sorted(self.variables)) or "no variables"
        return (f"image {self.image}, {memory}, {cpus}, GPU {'yes' if self.gpu else 'no'}, "
                f"{names}, for {who}")

    def as_json(self) -> dict[str, Any]:
        """As the JSON API reads it back (memory in bytes): a GET's entry is a PUT's body."""
        return {"name": self.name, "description": self.description, "image": self.image,
                "memory": self.memory, "cpus": self.cpus, "gpu": self.gpu,
                "variables": dict(self.variables), "groups": list(self.groups)}


def capped(own: Limits, groups: Limits) -> Limits:
    """The environment's defaults under the groups' caps, per resource: the lower value; None
    (no limit) on one side leaves the other side's."""

    def lower(a: float | None, b: float | None) -> float | None:
        return b if a is None else a if b is None else min(a, b)

    memory = lower(own.memory, groups.memory)
    return Limits(int(memory) if memory else None, lower(own.cpus, groups.cpus))


def normal_image(image: str) -> str:
    """Docker's own default made explicit: `dshub-lab` is `dshub-lab:latest`."""
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in image else f"{image}:latest"


def _text(raw: Any, what: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ActionRefused(f"{what} must be text.", 400)
    return raw.strip()


def _limit(raw: Any, parse: Any, refusal: str) -> Any:
    """An environment's default memory or CPUs: a word of NONE_WORDS is no default."""
    return parse_limit(raw, parse, (str, int, float), refusal.format("?"), refusal,
                       dict.fromkeys(NONE_WORDS))


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return raw.strip().lower() in TRUE_WORDS
    if raw is None:
        return False
    raise ActionRefused("GPU must be true or false.", 400)


def parse_variables(raw: Any) -> dict[str, str]:
    """A JSON object of strings, or a form's text: one NAME=value a line."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        pairs = []
        for line in raw.splitlines():
            if line.strip():
                name, sep, value = line.strip().partition("=")
                if not sep:
                    raise ActionRefused(f"Variables are NAME=value, one a line: {line[:60]!r} "
                                        "has no '='.", 400)
                pairs.append((name.strip(), value))
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise ActionRefused("Variables must be an object of names to strings.", 400)
    if len(pairs) > MAX_VARIABLES:
        raise ActionRefused(f"At most {MAX_VARIABLES} variables.", 400)
    variables: dict[str, str] = {}
    for name, value in pairs:
        if not isinstance(name, str) or not VARIABLE.fullmatch(name):
            raise ActionRefused(f"{str(name)[:60]!r} is not a variable name: letters, digits "
                                "and _, not starting with a digit.", 400)
        if name in RESERVED or name.startswith(RESERVED_PREFIXES):
            raise ActionRefused(f"{name} is set by the hub or the portal for every lab; an "
                                "environment may not change it.", 400)
        if not isinstance(value, str) or len(value) > MAX_VALUE or "\0" in value:
            raise ActionRefused(f"The value of {name} must be text of at most {MAX_VALUE} "
                                "characters.", 400)
        variables[name] = value
    return variables


def parse_groups(raw: Any) -> tuple[str, ...]:
    """A JSON list of names, or a form's text (commas or spaces); empty: everyone."""
    if raw is None or raw == "":
        return ()
    names = re.split(r"[,\s]+", raw.strip()) if isinstance(raw, str) else raw
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ActionRefused("Groups must be a list of group names.", 400)
    return tuple(sorted({n.strip() for n in names if n.strip()}))


def parse_environment(raw: Mapping[str, Any]) -> Environment:
    """An environment from a form or a JSON object; ActionRefused (400) names the bad field."""
    unknown = set(raw) - FIELDS
    if unknown:
        raise ActionRefused(f"Unknown fields: {', '.join(sorted(unknown))[:200]}. An "
                            f"environment has {', '.join(sorted(FIELDS))}.", 400)
    name = _text(raw.get("name"), "The name")
    if not NAME.fullmatch(name):
        raise ActionRefused(f"{name[:70]!r} is not an environment name: 1 to 64 lower-case "
                            "letters, digits, '.', '_' or '-', starting with a letter or "
                            "digit.", 400)
    description = _text(raw.get("description"), "The description")
    if len(description) > MAX_DESCRIPTION:
        raise ActionRefused(f"The description has at most {MAX_DESCRIPTION} characters.", 400)
    image = _text(raw.get("image"), "The image")
    if not IMAGE.fullmatch(image):
        raise ActionRefused(f"{image[:80]!r} is not a Docker image name such as dshub-lab or "
                            "registry.example:5000/team/lab:2.1.", 400)
    memory = _limit(raw.get("memory"), parsers.size,
                    "Memory {!r} is not a size: write e.g. 512M or 4G (at least 64M), or "
                    "'none' for no default.")
    cpus = _limit(raw.get("cpus"), parsers.cpus,
                  f"CPUs {{!r}} is not valid: write a number from 0.01 to "
                  f"{parsers.host_cpus()} (this host's CPU count), or 'none'.")
    return Environment(name, description, normal_image(image), memory, cpus,
                       _flag(raw.get("gpu")), parse_variables(raw.get("variables")),
                       parse_groups(raw.get("groups")))


def from_row(name: str, description: str, image: str, memory: int | None, cpus: float | None,
             gpu: bool, variables: str, groups: str) -> Environment:
    """An environment as the store keeps it (variables and groups in JSON)."""
    return Environment(name, description, image, memory, cpus, gpu, json.loads(variables),
                       tuple(json.loads(groups)))


def chosen_name(options: Any) -> str | None:
    """The environment a start's user options name; None when they name none. JupyterHub 5.5
    hands the REST body over whole, so `{"user_options": {...}}` is read as 6.x reads it; a
    query string or form gives a list of one value (/hub/spawn?environment=...)."""
    if options is None:
        return None
    if not isinstance(options, dict):
        raise ActionRefused('user_options must be a JSON object, e.g. {"environment": '
                            '"<name>"}.', 400)
    if isinstance(options.get("user_options"), dict):
        options = options["user_options"]
    raw = options.get("environment")
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise ActionRefused("The environment must be named by a string, e.g. "
                            '{"environment": "<name>"}.', 400)
    return raw.strip()


def pick(environments: Sequence[Environment], groups: set[str],
         name: str | None) -> Environment | None:
    """The environment a start uses: the one named, else the first the user may use (by
    name); None when the user may use none (the configured image, as without environments).
    A name that is unknown or not open to the user's groups is a 400."""
    usable = [e for e in environments if e.open_to(groups)]
    if name is None:
        return usable[0] if usable else None
    found = next((e for e in environments if e.name == name), None)
    if found is None or not found.open_to(groups):
        offer = ", ".join(e.name for e in usable) or "none"
        why = "There is no environment named" if found is None else "You may not use"
        raise ActionRefused(f"{why} {name[:70]!r}: nothing was started. Environments you may "
                            f"use: {offer}.", 400)
    return found


def options_from_body(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The user options of a JSON API request: `{"user_options": {...}}` as the hub's REST API
    takes them, or `{"environment": ...}` alone; None when it names none (the last ones)."""
    if "user_options" in body:
        options = body["user_options"]
        if options is not None and not isinstance(options, dict):
            raise ActionRefused('user_options must be a JSON object, e.g. {"environment": '
                                '"<name>"}, or null.', 400)
        chosen_name(options)  # a bad value is a 400 here, before anything is asked of the hub
        return options
    if "environment" in body:
        options = {"environment": body["environment"]}
        chosen_name(options)
        return options
    return None
