"""compose.yml and compose.swarm.yml hold the same security settings: ONE list, both files.

compose.swarm.yml had drifted: no JUPYTERHUB_TLS_PROXY (cookies without Secure), no HSTS,
Traefik with the engine's socket (a hole in the proxy was root on the manager), `latest` images.
Every entry below is checked on both files, so a setting added to one and not the other fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

ROOT = Path(__file__).resolve().parents[2]
FILES = ["compose.yml", "compose.swarm.yml"]
DEFAULT = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def load(name: str) -> dict:
    """The file with `${VAR:-default}` read as its default (what an empty .env gives)."""
    text = DEFAULT.sub(lambda m: m.group(2) or "", (ROOT / name).read_text())
    return yaml.safe_load(text)


def hub(f: dict) -> dict:
    return f["services"]["jupyterhub"]


def traefik(f: dict) -> dict:
    return f["services"]["traefik"]


def volumes(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read-only) of each mount, short or long syntax."""
    found = []
    for v in service.get("volumes", []):
        if isinstance(v, str):
            parts = v.split(":")
            found.append((parts[0], parts[1], parts[2:] == ["ro"]))
        else:
            found.append((v.get("source", ""), v["target"], bool(v.get("read_only"))))
    return found


def published(service: dict) -> set[int]:
    return {int(p["published"]) if isinstance(p, dict) else int(str(p).split(":")[-2])
            for p in service.get("ports", [])}


def networks(service: dict) -> dict:
    raw = service.get("networks", {})
    return dict.fromkeys(raw, None) if isinstance(raw, list) else raw


def routes() -> dict:
    return yaml.safe_load((ROOT / "traefik" / "dynamic.yml").read_text())


def pinned(image: str) -> bool:
    return image.startswith("dshub-hub:") or bool(
        re.fullmatch(r"v?\d+\.\d+\.\d+", image.rpartition(":")[2]))


# (what must hold, check). Each check gets one parsed compose file.
SECURITY: list[tuple[str, Callable[[dict], bool]]] = [
    ("the hub knows a TLS proxy is in front (Secure cookies, client addresses)",
     lambda f: str(hub(f)["environment"]["JUPYTERHUB_TLS_PROXY"]) == "1"),
    ("Traefik holds no Docker socket",
     lambda f: not any("docker.sock" in s for s, _, _ in volumes(traefik(f)))),
    ("Traefik takes no routes from the engine (no docker or swarm provider)",
     lambda f: not any(a.startswith(("--providers.docker", "--providers.swarm"))
                       for a in traefik(f)["command"])),
    ("Traefik's routes are the repository's traefik/dynamic.yml, read-only",
     lambda f: "--providers.file.filename=/etc/traefik/dynamic.yml" in traefik(f)["command"]
     and ("./traefik/dynamic.yml", "/etc/traefik/dynamic.yml", True) in volumes(traefik(f))),
    ("those routes send HSTS for a year on every answer",
     lambda f: "jupyterhub-hsts" in routes()["http"]["routers"]["jupyterhub"]["middlewares"]
     and int(routes()["http"]["middlewares"]["jupyterhub-hsts"]["headers"]["stsSeconds"])
     >= 31536000),
    ("the hub carries no Traefik labels (routes only from the file)",
     lambda f: not any(str(k).startswith("traefik.") for k in
                       {**(hub(f).get("labels") or {}),
                        **((hub(f).get("deploy") or {}).get("labels") or {})})),
    ("no dashboard, no insecure API, no plain-HTTP entry point",
     lambda f: "--api.dashboard=false" in traefik(f)["command"]
     and not any(a.startswith(("--api.insecure", "--entrypoints.web."))
                 for a in traefik(f)["command"])),
    ("only HTTPS (443) is published, and only by Traefik",
     lambda f: published(traefik(f)) == {443}
     and not any(published(s) for n, s in f["services"].items() if n != "traefik")),
    ("Traefik is on the edge network only; the hub's public port has its alias there",
     lambda f: set(networks(traefik(f))) == {"dshub_edge"}
     and "jupyterhub-edge" in (networks(hub(f)).get("dshub_edge") or {}).get("aliases", [])),
    ("every image is pinned to a version",
     lambda f: all(pinned(s["image"]) for s in f["services"].values())),
    ("sudo mode, the sign-up cap and labs on their own origin are passed to the hub",
     lambda f: {"SUDO_MODE_MINUTES", "SIGNUP_MAX_PENDING", "JUPYTERHUB_SUBDOMAIN_HOST"}
     <= set(hub(f)["environment"])),
]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("setting", SECURITY, ids=[s[0] for s in SECURITY])
def test_both_compose_files_hold_every_security_setting(name, setting):
    what, check = setting
    assert check(load(name)), f"{name}: {what}"
