"""An in-memory Docker engine for the in-process hub: docker-py's APIClient methods the portal's
DockerService and DockerSpawner call, with the engine's own answers.

One object serves both (DockerService through its `client_factory`, the spawner as its
`client`), so a container the spawner creates is the one the portal inspects, and a volume a
container mounts cannot be removed. Images are Docker's: a tag (`name:tag`, `name` meaning
`name:latest`) names an image ID; `tag` moves it, and a container keeps the ID it was created
from (`Image`) beside the reference it was given (`Config.Image`). The errors are docker-py's
own, with their HTTP status: 404 `NotFound` for a missing object (DockerService turns it into
ContainerMissing), 409 for a name already taken, a running container removed without force, or
a volume in use (DockerService turns that into VolumeInUse). Nothing runs: a started container
is only a record, and no lab answers behind it unless a test sets `labs` (tests/support/
fake_labs.py): then something answers on a running container's port, as its lab would.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from docker.errors import APIError, NotFound
from docker.types import HostConfig

from portal.docker.service import DockerService

from .fake_labs import AnsweringLabs, lab_port

API_VERSION = "1.44"


def _error(status: int, message: str) -> APIError:
    """docker-py's exception for an engine answer `status` (the status is what callers test)."""
    response = requests.Response()
    response.status_code = status
    response.reason = {404: "Not Found", 409: "Conflict"}.get(status, "Error")
    cls = NotFound if status == 404 else APIError
    return cls(message, response=response, explanation=message)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _volume_binds(host_config: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, destination) of every bind; a source without a leading / is a named volume."""
    pairs = []
    for bind in host_config.get("Binds") or []:
        source, _, rest = bind.partition(":")
        pairs.append((source, rest.split(":")[0]))
    return pairs


def _normal(reference: str) -> str:
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last or "@" in reference else f"{reference}:latest"


class FakeImages:
    """The engine's images: tags naming IDs, found by tag, by ID or by an ID's prefix."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.tags: dict[str, str] = {}  # name:tag -> image ID
        self.records: dict[str, dict[str, Any]] = {}  # image ID -> Created (epoch), Size
        for name in names:
            self.add(name)

    def add(self, name: str, image_id: str = "", size: int = 600 * 10**6) -> str:
        """A new image (built or loaded) tagged `name`; its ID, by default made from the name."""
        image_id = image_id or "sha256:" + hashlib.sha256(name.encode()).hexdigest()
        self.records.setdefault(image_id, {"Created": int(time.time()) - 3600, "Size": size})
        self.tags[_normal(name)] = image_id
        return image_id

    def resolve(self, reference: str) -> str | None:
        found = self.tags.get(_normal(reference))
        if found is None and reference.removeprefix("sha256:"):
            bare = reference.removeprefix("sha256:")
            found = next((i for i in self.records if i.removeprefix("sha256:").startswith(bare)
                          and all(c in "0123456789abcdef" for c in bare)), None)
        return found

    def __contains__(self, reference: object) -> bool:
        return isinstance(reference, str) and self.resolve(reference) is not None

    def tags_of(self, image_id: str) -> list[str]:
        return sorted(t for t, i in self.tags.items() if i == image_id)


class FakeEngine:
    """The engine's objects (containers, volumes, images) and the calls that change them."""

    def __init__(self, images: tuple[str, ...] = ("dshub-lab:latest",)) -> None:
        self.image_table = FakeImages(images)  # `images()` is the engine's listing
        # name -> what inspect_container answers; name -> what inspect_volume answers
        self.container_records: dict[str, dict[str, Any]] = {}
        self.volume_records: dict[str, dict[str, Any]] = {}
        self.sizes: dict[str, int] = {}  # volume name -> bytes `docker system df` reports
        self.calls: list[str] = []  # method names, in order (tests count Docker round trips)
        self.threads: list[tuple[str, str]] = []  # (method, the calling thread's name)
        self.up = True  # False: every call fails as an unreachable engine does
        self.labs: AnsweringLabs | None = None  # set: a running container's port answers
        # DockerService and the spawner call from their thread pools at once.
        self._lock = threading.RLock()
        self._ids = itertools.count(1)

    @property
    def api(self) -> FakeEngine:
        """What `docker.DockerClient.api` is: DockerService's client_factory returns this."""
        return self

    base_url = "http+docker://localhost"
    api_version = API_VERSION

    def _call(self, method: str) -> None:
        self.calls.append(method)
        self.threads.append((method, threading.current_thread().name))
        if not self.up:
            raise requests.ConnectionError("Connection refused (fake engine stopped)")

    def _container(self, name_or_id: str) -> dict[str, Any]:
        found = self.container_records.get(name_or_id.lstrip("/"))
        if found is None:  # by id or a unique id prefix, as the engine accepts
            found = next((c for c in self.container_records.values()
                          if c["Id"].startswith(name_or_id)), None)
        if found is None:
            raise _error(404, f"No such container: {name_or_id}")
        return found

    # Engine and images.
    def ping(self) -> bool:
        with self._lock:
            self._call("ping")
            return True

    def inspect_image(self, image: str) -> dict[str, Any]:
        with self._lock:
            self._call("inspect_image")
            image_id = self.image_table.resolve(image)
            if image_id is None:
                raise _error(404, f"No such image: {image}")
            record = self.image_table.records[image_id]
            created = datetime.fromtimestamp(record["Created"], UTC).isoformat()
            # Config as the lab images declare it (DockerSpawner reads Cmd when none is set).
            return {"Id": image_id, "RepoTags": self.image_table.tags_of(image_id),
                    "Created": created.replace("+00:00", ".123456789Z"), "Size": record["Size"],
                    "Config": {"Cmd": ["jupyterhub-singleuser"], "Entrypoint": None,
                               "Env": [], "Labels": {}}}

    def images(self, name: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        with self._lock:
            self._call("images")
            return [{"Id": i, "RepoTags": self.image_table.tags_of(i), **r}
                    for i, r in self.image_table.records.items()]

    def tag(self, image: str, repository: str, tag: str | None = None,
            force: bool = False) -> bool:
        """Point `repository:tag` at `image` (the tag leaves the image it named before)."""
        with self._lock:
            self._call("tag")
            image_id = self.image_table.resolve(image)
            if image_id is None:
                raise _error(404, f"No such image: {image}")
            self.image_table.tags[_normal(f"{repository}:{tag}" if tag else repository)] = image_id
            return True

    def create_host_config(self, **kwargs: Any) -> HostConfig:
        return HostConfig(version=API_VERSION, **kwargs)

    # Containers.
    def create_container(self, image: str, command: Any = None, name: str | None = None,
                         environment: Any = None, labels: dict[str, str] | None = None,
                         host_config: dict[str, Any] | None = None, **kwargs: Any
                         ) -> dict[str, Any]:
        with self._lock:
            self._call("create_container")
            image_id = self.image_table.resolve(image)
            if image_id is None:
                raise _error(404, f"No such image: {image}")
            name = name or f"fake_{next(self._ids)}"
            if name in self.container_records:
                raise _error(409, f'Conflict. The container name "/{name}" is already in use')
            host_config = dict(host_config or {})
            mounts = []
            for source, destination in _volume_binds(host_config):
                if not source.startswith("/") and source not in self.volume_records:
                    self._make_volume(source, {})  # the engine makes a missing named volume
                mounts.append({"Type": "bind" if source.startswith("/") else "volume",
                               "Name": "" if source.startswith("/") else source,
                               "Source": source, "Destination": destination})
            container_id = secrets.token_hex(32)
            self.container_records[name] = {
                "Id": container_id, "Name": f"/{name}", "Created": _now(), "Image": image_id,
                "Config": {"Image": image, "Cmd": command, "Env": environment,
                           "Labels": dict(labels or {})},
                "HostConfig": host_config, "Mounts": mounts,
                "State": {"Status": "created", "Running": False, "ExitCode": 0, "Error": "",
                          "OOMKilled": False},
                "NetworkSettings": {"Networks": {}},
            }
            return {"Id": container_id, "Warnings": []}

    def start(self, container: str, **kwargs: Any) -> None:
        with self._lock:
            self._call("start")
            found = self._container(container)
            found["State"].update(Status="running", Running=True, ExitCode=0, StartedAt=_now())
            self._answer(found)

    def stop(self, container: str, timeout: int | None = None) -> None:
        with self._lock:
            self._call("stop")
            self.exit(container, 0)

    def restart(self, container: str, timeout: int = 10) -> None:
        with self._lock:
            self._call("restart")
            found = self._container(container)
            found["State"].update(Status="running", Running=True, ExitCode=0, StartedAt=_now())
            self._answer(found)

    def wait(self, container: str, timeout: float | None = None, **kwargs: Any
             ) -> dict[str, Any]:
        with self._lock:
            self._call("wait")
            state = self._container(container)["State"]
            if state["Running"]:  # nothing runs here: a container ends as soon as it is awaited
                state.update(Status="exited", Running=False)
                self._silence(container)
            return {"StatusCode": state["ExitCode"]}

    def remove_container(self, container: str, v: bool = False, force: bool = False,
                         **kwargs: Any) -> None:
        with self._lock:
            self._call("remove_container")
            found = self._container(container)
            name = found["Name"].lstrip("/")
            if found["State"]["Running"] and not force:
                raise _error(409, f"You cannot remove a running container {found['Id']}. "
                                  "Stop the container before attempting removal or force remove")
            # `v` removes anonymous volumes only: named ones stay, as on the engine.
            self._silence(name)
            del self.container_records[name]

    def inspect_container(self, container: str) -> dict[str, Any]:
        with self._lock:
            self._call("inspect_container")
            return _copy(self._container(container))

    def containers(self, all: bool = False, filters: dict[str, Any] | None = None,
                   **kwargs: Any) -> list[dict[str, Any]]:
        with self._lock:
            self._call("containers")
            filters = filters or {}
            rows = []
            for name, c in self.container_records.items():
                if not all and not c["State"]["Running"]:
                    continue
                if "name" in filters and filters["name"] not in name:  # a substring, as Docker
                    continue
                if "volume" in filters and not any(
                        filters["volume"] in (m["Name"], m["Destination"]) for m in c["Mounts"]):
                    continue
                # `Image`: the reference given, or the ID once that reference names another.
                given = c["Config"]["Image"]
                shown = given if self.image_table.resolve(given) == c["Image"] else c["Image"]
                rows.append({"Id": c["Id"], "Names": [c["Name"]], "Image": shown,
                             "ImageID": c["Image"],
                             "State": c["State"]["Status"], "Mounts": _copy(c["Mounts"]),
                             "Labels": dict(c["Config"]["Labels"])})
            return rows

    def logs(self, container: str, stdout: bool = True, stderr: bool = True,
             tail: Any = "all", **kwargs: Any) -> bytes:
        with self._lock:
            self._call("logs")
            found = self._container(container)
            return found.get("Output", b"")

    def stats(self, container: str, stream: bool = False, one_shot: bool = True,
              **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self._call("stats")
            found = self._container(container)
            if not found["State"]["Running"]:  # what the engine answers for a stopped one
                return {"memory_stats": {}, "cpu_stats": {}}
            limit = int(found["HostConfig"].get("Memory") or 2**33)
            return {"memory_stats": {"usage": 50 * 2**20, "limit": limit, "stats": {}},
                    "cpu_stats": {"cpu_usage": {"total_usage": 10**9},
                                  "system_cpu_usage": 10**12, "online_cpus": 2}}

    # Volumes.
    def _make_volume(self, name: str, labels: dict[str, str]) -> dict[str, Any]:
        volume = {"Name": name, "Driver": "local", "Labels": dict(labels), "Scope": "local",
                  "CreatedAt": _now(), "Mountpoint": f"/var/lib/docker/volumes/{name}/_data"}
        self.volume_records[name] = volume
        return volume

    def create_volume(self, name: str | None = None, driver: str | None = None,
                      driver_opts: Any = None, labels: dict[str, str] | None = None
                      ) -> dict[str, Any]:
        with self._lock:
            self._call("create_volume")
            name = name or secrets.token_hex(32)
            if name in self.volume_records:  # the engine hands back the existing volume
                return _copy(self.volume_records[name])
            return _copy(self._make_volume(name, labels or {}))

    def inspect_volume(self, name: str) -> dict[str, Any]:
        with self._lock:
            self._call("inspect_volume")
            if name not in self.volume_records:
                raise _error(404, f"get {name}: no such volume")
            return _copy(self.volume_records[name])

    def volumes(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        with self._lock:
            self._call("volumes")
            filters = filters or {}
            found = []
            for name, v in self.volume_records.items():
                if "name" in filters and filters["name"] not in name:
                    continue
                if "label" in filters:
                    key, _, value = str(filters["label"]).partition("=")
                    if key not in v["Labels"] or (value and v["Labels"][key] != value):
                        continue
                found.append(_copy(v))
            return {"Volumes": found, "Warnings": None}

    def remove_volume(self, name: str, force: bool = False) -> None:
        with self._lock:
            self._call("remove_volume")
            if name not in self.volume_records:
                raise _error(404, f"get {name}: no such volume")
            users = [c["Id"] for c in self.container_records.values()
                     if any(m["Name"] == name for m in c["Mounts"])]
            if users:  # even `force` does not remove a volume a container holds
                raise _error(409, f"remove {name}: volume is in use - [{', '.join(users)}]")
            del self.volume_records[name]
            self.sizes.pop(name, None)

    def df(self) -> dict[str, Any]:
        with self._lock:
            self._call("df")
            rows = []
            for name in self.volume_records:
                refs = sum(any(m["Name"] == name for m in c["Mounts"])
                           for c in self.container_records.values())
                rows.append({"Name": name, "UsageData": {"Size": self.sizes.get(name, 0),
                                                         "RefCount": refs}})
            return {"Volumes": rows}

    # What tests use to set a scene or end one; no Docker call of its own.
    def print_output(self, container: str, text: bytes) -> None:
        """What the container's process printed (its `logs`)."""
        with self._lock:
            self._container(container)["Output"] = text

    def exit(self, container: str, code: int, oom: bool = False) -> None:
        """The container's process ends (as a crash or an out-of-memory kill would end it)."""
        with self._lock:
            self._container(container)["State"].update(
                Status="exited", Running=False, ExitCode=code, OOMKilled=oom,
                FinishedAt=_now())
            self._silence(container)

    def _answer(self, found: dict[str, Any]) -> None:
        port = lab_port(found["Config"]["Env"])
        if self.labs is not None and port:
            self.labs.open(found["Name"].lstrip("/"), port)

    def _silence(self, container: str) -> None:
        if self.labs is not None:
            self.labs.close(self._container(container)["Name"].lstrip("/"))

    def volume_names(self, containing: str = "") -> list[str]:
        with self._lock:
            return sorted(n for n in self.volume_records if containing in n)


def _copy(value: Any) -> Any:
    """A deep copy of plain data: callers never hold the engine's own records."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@contextlib.contextmanager
def service_over(engine: FakeEngine) -> Iterator[DockerService]:
    """The portal's DockerService over `engine`, its thread pools shut down afterwards."""
    service = DockerService(client_factory=lambda: engine)
    try:
        yield service
    finally:
        service._pool.shutdown(wait=False)
        service._sizes_pool.shutdown(wait=False)
