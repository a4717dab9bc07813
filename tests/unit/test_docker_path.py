"""One path to Docker: every call, DockerSpawner's own included, runs in a DockerService's
bounded pool; no portal module reaches docker-py or the spawner's `docker()` by another way."""

from __future__ import annotations

import ast
import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from docker.errors import APIError

from portal.docker.service import DockerService
from portal.platform.errors import DockerUnavailable
from portal.swarm.nodes import Node
from portal.swarm.spawner import PortalSwarmSpawner
from portal.swarm.view import SwarmView
from tests.support.fake_docker import FakeEngine
from tests.unit.test_spawner_names import make_spawner

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
# The one path: DockerService, its three mixins and what they call on it hold the only
# docker-py clients (and the one pool per engine socket they share).
PATH = {"docker/service.py", "docker/volumes.py", "docker/swarm.py", "docker/images.py",
        "docker/calls.py", "docker/socket_pool.py", "docker/stats.py"}
# What any module may take from docker-py: exception types to catch, spec types to build.
VOCABULARY = {"docker.errors", "docker.types"}
SPAWNERS = {"lab/spawner.py", "swarm/spawner.py"}  # DockerSpawner's subclasses


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PORTAL.rglob("*.py")):
        yield str(path.relative_to(PORTAL)), ast.parse(path.read_text())


def _methods(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Every node with the name of the function it is in ("" at module level)."""
    def walk(node: ast.AST, within: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            is_def = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            name = child.name if is_def else within
            yield name, child
            yield from walk(child, name)
    return walk(tree, "")


def test_only_the_docker_service_imports_docker_py_clients():
    found = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                docker_py = module == "docker" or module.startswith("docker.")
                if docker_py and name not in PATH and module not in VOCABULARY:
                    found.append(f"{name}: {module}")
                if module.startswith("dockerspawner") and name not in SPAWNERS:
                    found.append(f"{name}: {module}")
    assert found == [], found


def test_no_module_calls_docker_by_another_way():
    """No `self.docker(...)` (DockerSpawner's by-name calls) in the portal's code: only the
    `docker()` overrides, which hand DockerSpawner's own calls to the DockerService; no raw
    client, `_api()` or `api_call` outside the path."""
    # The spawner and its mixins: `self.docker` there is DockerSpawner's by-name call.
    spawner_classes = {c.__name__ for c in PortalSwarmSpawner.__mro__
                       if c.__module__.startswith("portal.")}
    found = []
    for name, tree in _modules():
        in_spawner = {id(n) for c in ast.walk(tree)
                      if isinstance(c, ast.ClassDef) and c.name in spawner_classes
                      for n in ast.walk(c)}
        for within, node in _methods(tree):
            if isinstance(node, ast.Call) and _is_self_docker(node.func):
                found.append(f"{name}:{node.lineno} self.docker(...)")
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            is_super = (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
                        and owner.func.id == "super")
            if node.attr == "docker" and within != "docker" and (
                    is_super or (id(node) in in_spawner and _is_self_docker(node))):
                found.append(f"{name}:{node.lineno} docker")
            if node.attr in ("_api", "_client") and name not in PATH:
                found.append(f"{name}:{node.lineno} {node.attr}")
            if node.attr == "api_call" and not (name == "lab/spawner.py" and within == "docker"):
                found.append(f"{name}:{node.lineno} {node.attr}")
            # DockerSpawner's own client: only as the private service's (no portal) factory.
            if node.attr == "client" and name != "lab/spawner.py":
                found.append(f"{name}:{node.lineno} {node.attr}")
    assert found == [], found


def _is_self_docker(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "docker"
            and isinstance(node.value, ast.Name) and node.value.id == "self")


# --- DockerSpawner's calls run in the portal's DockerService ---------------------------------

@pytest.fixture
def service() -> Iterator[DockerService]:
    engine = FakeEngine()
    s = DockerService(client_factory=lambda: engine, workers=2)
    yield s
    s._pool.shutdown(wait=False)
    s._sizes_pool.shutdown(wait=False)


async def test_dockerspawners_own_calls_run_in_the_injected_service(service, monkeypatch):
    spawner = make_spawner("ann", docker_engine=lambda: service)
    assert spawner.docker_service is service
    threads = []
    engine = service._api()
    inspect = engine.inspect_container

    def seen(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return inspect(*args, **kwargs)

    monkeypatch.setattr(engine, "inspect_container", seen)
    # DockerSpawner's base class: a 404 read by status means "gone", as before.
    assert await spawner.get_object() is None
    assert threads and threads[0].startswith("portal-docker")
    await spawner.claim_user_volumes()  # typed calls on the same service
    assert sorted(engine.volume_names()) == sorted(v.name for v in spawner.owned_volumes())


def test_without_the_portal_the_spawner_has_a_private_service_over_its_own_client():
    spawner = make_spawner("ann")
    assert isinstance(spawner.docker_service, DockerService)
    assert spawner.docker_service is spawner.docker_service


class Refusing:
    """A low-level client whose engine answers 500 (an unhealthy Swarm node) or hangs."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def inspect_service(self, name: str) -> dict:
        answer = SimpleNamespace(status_code=500, reason="unhealthy", url="/services/lab")
        raise APIError("unhealthy", response=answer)

    def services(self) -> list:
        self.release.wait(5)
        return []


async def test_the_spawners_vocabulary_keeps_docker_answers_and_bounds_silence():
    client = Refusing()
    service = DockerService(client_factory=lambda: client, workers=1)
    try:
        # DockerSpawner reads a 500 itself (get_object: "on an unhealthy node"): kept as is.
        with pytest.raises(APIError) as raised:
            await service.api_call("inspect_service", ("lab",), {})
        assert raised.value.status_code == 500
        # The portal's own calls word it as the engine being away.
        with pytest.raises(DockerUnavailable):
            await service.force_update("lab")
        # An engine that does not answer costs the caller the bound, not its thread for ever.
        with pytest.raises(DockerUnavailable, match="did not answer in time"):
            await service.api_call("services", (), {}, bound=0.2)
    finally:
        client.release.set()
        service._pool.shutdown(wait=True)


async def test_a_pull_is_bounded_by_the_hubs_start_timeout(monkeypatch):
    seen = {}

    def api_call(self, method, args, kwargs, bound=None):
        seen[method] = bound
        return asyncio.sleep(0)

    monkeypatch.setattr(DockerService, "api_call", api_call)
    spawner = make_spawner("ann", start_timeout=77)
    await spawner.docker("pull", "lab", "latest")
    await spawner.docker("inspect_image", "lab:latest")
    assert seen == {"pull": 77.0, "inspect_image": None}


def test_each_node_engine_is_one_service_and_the_managers_is_the_portals():
    manager = DockerService(client_factory=lambda: FakeEngine(), workers=1)
    view = SwarmView(manager, "unix:///run/manager.sock")

    def node(node_id: str, url: str) -> Node:
        return Node(node_id, "h-" + node_id, "127.0.0.1", True, True, url, True)

    assert view.engine(node("m", "unix:///run/manager.sock")) is manager
    other = view.engine(node("n2", "tcp://127.0.0.1:2376"))
    assert other is not manager and view.engine(node("n2", "tcp://127.0.0.1:2376")) is other
    assert other._pool is not manager._pool  # a hung node holds its own threads only
    with pytest.raises(DockerUnavailable, match="no dshub.engine label"):
        view.engine(node("n3", ""))
