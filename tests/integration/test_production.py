"""The production stack with real Docker and nothing pulled: the hub image, a hub running from
it as a container that spawns a lab, its health check, the compose files and start.sh.

Traefik and Watchtower images cannot be pulled here, so compose.yml is checked through
`docker compose config` (any Compose implementation) and the parts of it this machine can run:
the `certs` service's command and the hub's health check, from the hub image itself.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from cryptography import x509

from tests.support.clients import Portal, ensure_running, ensure_stopped, signup
from tests.support.hub import PREFIX, ROOT, free_port

pytestmark = pytest.mark.docker

IMAGE = "dshub-hub:latest"
NAME = f"{PREFIX}hub-prod"


@pytest.fixture(scope="session")
def hub_image(docker_client):
    """Built once per session from the locally made base; skipped when the context is unchanged
    (scripts/build-images.sh compares a hash label)."""
    subprocess.run(["bash", "scripts/build-images.sh", "hub"], cwd=ROOT, check=True, timeout=900)
    return docker_client.images.get(IMAGE)


def test_image_layout(hub_image):
    config = hub_image.attrs["Config"]
    assert config["WorkingDir"] == "/srv/jupyterhub"
    assert config["Cmd"] == ["jupyterhub", "-f", "/srv/jupyterhub/jupyterhub_config.py"]
    assert config["Healthcheck"]["Test"] == ["CMD", "python", "-m", "portal.platform.healthcheck"]
    assert "8000/tcp" in config["ExposedPorts"]
    assert "PYTHONFAULTHANDLER=1" in config["Env"]  # a crash leaves its stacks in the log
    out = _run(hub_image, "sh", "-c",
               "cmp /srv/jupyterhub/jupyterhub_config.py /dev/stdin && test -d /data "
               "&& configurable-http-proxy --version && jupyterhub --version "
               "&& python -c 'import portal.platform.tls, portal.platform.branding, "
               "portal.views.admin'",
               stdin=(ROOT / "config" / "jupyterhub_config.py").read_bytes())
    assert out.returncode == 0, out.stderr
    # Templates and static files are installed with the package, not taken from a checkout.
    listing = _run(hub_image, "python", "-c",
                   "import os, portal; d = os.path.dirname(portal.__file__); "
                   "print(sorted(os.listdir(d + '/hub')), sorted(os.listdir(d + '/static')))")
    assert b"page.html" in listing.stdout and b"htmx.min.js" in listing.stdout, listing.stderr


def test_image_keeps_no_trace_of_the_package_index(hub_image):
    """scripts/build-images.sh passes this machine's configured index (if any) as PIP_INDEX_URL;
    neither the argument nor its value may be in the hub image's history or environment."""
    history = subprocess.run(["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}",
                              hub_image.id], capture_output=True, text=True, timeout=60)
    assert history.returncode == 0, history.stderr
    # The environment was built in another stage; the hub's own stage installs only the project,
    # from its files alone (--no-index).
    installs = [line for line in history.stdout.splitlines() if "pip install" in line]
    assert installs and all("--no-index" in line for line in installs), installs
    assert "PIP_INDEX_URL" not in history.stdout
    env = "\n".join(hub_image.attrs["Config"]["Env"] or [])
    assert "PIP_INDEX_URL" not in env
    index = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                           capture_output=True, text=True).stdout.strip()
    if index:
        assert index not in history.stdout and index not in env


def _run(image, *cmd: str, stdin: bytes | None = None, volumes: tuple[str, ...] = ()):
    """`docker run --rm` of the hub image without network (what compose's `certs` does)."""
    args = ["docker", "run", "--rm", "--name", f"{PREFIX}run-{secrets.token_hex(4)}",
            "--network", "none", *(["-i"] if stdin else [])]
    for v in volumes:
        args += ["-v", v]
    return subprocess.run([*args, image.id, *cmd], input=stdin, capture_output=True,
                          timeout=120, stdin=None if stdin else subprocess.DEVNULL)


# --- the hub as a container -----------------------------------------------------------------

CUSTOM_CONFIG = """\
# The documented way to customise the image: load its configuration, then change things.
import json, os
c = get_config()
load_subconfig("/srv/jupyterhub/jupyterhub_config.py")
ports = json.loads(os.environ["DSHUB_TEST_PORTS"])
c.JupyterHub.port = ports["proxy"]
c.JupyterHub.hub_port = ports["hub"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{ports['api']}"
c.PortalSpawner.name_template = "@PREFIX@prod-{username}"
c.PortalSpawner.volume_name_template = "@PREFIX@prod-{username}_{volume}"
c.PortalSpawner.shared_volume_name = "@PREFIX@prod-shared"
c.PortalSpawner.pull_policy = "never"
c.PortalSpawner.start_timeout = 60
"""


class ContainerHub:
    """The hub running in a container; speaks like tests.support.hub.Hub for the clients."""

    def __init__(self, container, ports: dict[str, int], base: str) -> None:
        self.container, self.ports = container, ports
        self.url = f"http://127.0.0.1:{ports['proxy']}{base}"

    def hub_url(self, path: str = "") -> str:
        return f"{self.url}hub/{path}"

    def health(self) -> str:
        self.container.reload()
        return self.container.attrs["State"].get("Health", {}).get("Status", "")

    def logs(self) -> str:
        return self.container.logs(tail=60).decode(errors="replace")

    def setup_code(self) -> str:
        """Read the way the README tells operators: `dshub-setup-code` inside the container."""
        out = self.container.exec_run(["dshub-setup-code"])
        return out.output.decode().strip() if out.exit_code == 0 else ""


@pytest.fixture(scope="module")
def container_hub(hub_image, docker_client, tmp_path_factory) -> Iterator[ContainerHub]:
    config_dir = tmp_path_factory.mktemp("prod-config")
    (config_dir / "custom_config.py").write_text(CUSTOM_CONFIG.replace("@PREFIX@", PREFIX))
    ports = {"proxy": free_port(), "hub": free_port(), "api": free_port()}
    second = 1_000_000_000
    container = docker_client.containers.run(
        IMAGE,
        command=["jupyterhub", "-f", "/srv/jupyterhub/custom_config.py"],
        name=NAME,
        detach=True,
        network_mode="host",
        environment={
            "DOCKER_NETWORK_NAME": "host",
            "DOCKER_NOTEBOOK_IMAGE": "dshub-lab:latest",
            "JUPYTERHUB_BASE_URL": "/jupyterhub",
            "JUPYTERHUB_ADMIN": "admin",
            "DSHUB_TEST_PORTS": json.dumps(ports),
        },
        volumes={
            "/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
            f"{PREFIX}hub-prod-data": {"bind": "/data", "mode": "rw"},
            str(config_dir / "custom_config.py"): {
                "bind": "/srv/jupyterhub/custom_config.py", "mode": "ro"},
        },
        # The image's own check, pointed at this test's port and run often.
        healthcheck={"test": ["CMD", "python", "-m", "portal.platform.healthcheck",
                              "--port", str(ports["proxy"])],
                     "interval": second, "timeout": 5 * second, "retries": 3},
    )
    hub = ContainerHub(container, ports, "/jupyterhub/")
    try:
        deadline = time.monotonic() + 90
        while hub.health() != "healthy":
            container.reload()
            assert container.status == "running", hub.logs()
            assert time.monotonic() < deadline, f"not healthy: {hub.health()}\n{hub.logs()}"
            time.sleep(0.5)
        yield hub
    finally:
        container.remove(force=True)
        for volume in docker_client.volumes.list(filters={"name": f"{PREFIX}hub-prod"}):
            volume.remove(force=True)
        for lab in docker_client.containers.list(all=True, filters={"name": f"{PREFIX}prod-"}):
            lab.remove(force=True)
        for volume in docker_client.volumes.list(filters={"name": f"{PREFIX}prod-"}):
            volume.remove(force=True)


def test_container_hub_is_healthy_and_the_check_fails_when_the_hub_is_down(container_hub):
    assert container_hub.health() == "healthy"
    r = requests.get(container_hub.hub_url("health"), timeout=10)
    assert r.status_code == 200
    ok = container_hub.container.exec_run(
        ["python", "-m", "portal.platform.healthcheck",
         "--port", str(container_hub.ports["proxy"])])
    assert ok.exit_code == 0, ok.output
    # Nothing listens on this port: what Docker sees when the hub is down.
    down = container_hub.container.exec_run(
        ["python", "-m", "portal.platform.healthcheck", "--port", str(free_port())])
    assert down.exit_code == 1
    assert b"unhealthy" in down.output
    # The proxy up but the hub behind it gone answers 503: also unhealthy.
    gone = container_hub.container.exec_run(
        ["python", "-m", "portal.platform.healthcheck", "--url",
         f"http://127.0.0.1:{container_hub.ports['proxy']}/not-the-hub/hub/health"])
    assert gone.exit_code == 1


def test_container_hub_spawns_a_lab(container_hub, docker_client):
    assert signup(container_hub, "admin").status_code == 200
    admin = Portal(container_hub, "admin")
    ensure_running(admin)
    lab = docker_client.containers.get(f"{PREFIX}prod-admin")
    assert lab.attrs["HostConfig"]["NetworkMode"] == "host"
    assert lab.labels.get("com.centurylinklabs.watchtower.enable") == "false"
    mounts = {m["Destination"]: m.get("Name") for m in lab.attrs["Mounts"]}
    assert mounts["/mnt/shared"] == f"{PREFIX}prod-shared"
    assert mounts["/home/lab/workspace"] == f"{PREFIX}prod-admin_workspace"
    r = admin.s.get(f"{container_hub.url}user/admin/lab", timeout=30)
    assert r.status_code == 200 and "JupyterLab" in r.text
    ensure_stopped(admin)
    assert not docker_client.containers.list(all=True, filters={"name": f"{PREFIX}prod-admin"})


# --- compose.yml, the override example, start.sh ---------------------------------------------


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("no Docker Compose here: scripts/setup.sh installs Debian's docker-compose")


def compose_env(**extra: str) -> dict[str, str]:
    # Only the documented defaults: nothing from the caller's shell leaks into the result.
    keep = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG")
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


def compose_config(*files: str, cwd: Path = ROOT, **env: str) -> dict:
    args = [*compose_command()]
    for f in files:
        args += ["-f", f]
    out = subprocess.run([*args, "config"], cwd=cwd, env=compose_env(**env),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def mounts(service: dict) -> dict[str, str]:
    """target -> source, from short ("src:dst:mode") or long syntax, as either Compose prints."""
    result = {}
    for v in service.get("volumes", []):
        if isinstance(v, str):
            source, target = v.split(":")[:2]
        else:
            source, target = v.get("source", ""), v["target"]
        result[target] = source
    return result


def published(service: dict) -> set[int]:
    ports = set()
    for p in service.get("ports", []):
        ports.add(int(p["published"]) if isinstance(p, dict) else int(str(p).split(":")[-2]))
    return ports


def labels(service: dict) -> dict[str, str]:
    raw = service.get("labels", {})
    return dict(item.split("=", 1) for item in raw) if isinstance(raw, list) else raw


NAS = {"NAS_HOST": "nas.example.test", "NAS_USERNAME": "hubuser", "NAS_PASSWORD": "s3cret-Pw",
       "POSTGRES_PASSWORD": "pg0secret"}


def test_compose_file_alone():
    config = compose_config("compose.yml")
    services = config["services"]
    assert set(services) == {"certs", "traefik", "jupyterhub", "watchtower"}
    hub, traefik, tower = services["jupyterhub"], services["traefik"], services["watchtower"]

    # Only HTTPS is published; no dashboard, no insecure API, no plain HTTP.
    assert published(traefik) == {443}
    assert not published(hub) and not published(tower)
    command = " ".join(traefik["command"])
    assert "--api.insecure" not in command and "--api.dashboard=false" in command
    assert "--entrypoints.web." not in command
    assert mounts(traefik)["/certs"] in ("certs", "jupyterhub_certs")
    assert traefik["depends_on"]["certs"]["condition"] == "service_completed_successfully"

    # Traefik holds no Docker socket: its routes are the repository's file, read-only.
    assert "--providers.docker" not in command
    assert not any("docker.sock" in str(v) for v in traefik.get("volumes", []))
    assert "--providers.file.filename=/etc/traefik/dynamic.yml" in command
    assert mounts(traefik)["/etc/traefik/dynamic.yml"] == str(ROOT / "traefik" / "dynamic.yml")
    (dynamic,) = [v for v in traefik["volumes"] if "/etc/traefik/dynamic.yml" in str(v)]
    assert dynamic.get("read_only") is True if isinstance(dynamic, dict) else dynamic.endswith(
        ":ro")
    assert traefik["environment"]["JUPYTERHUB_BASE_URL"] == "/jupyterhub"
    routes = yaml.safe_load((ROOT / "traefik" / "dynamic.yml").read_text())
    router = routes["http"]["routers"]["jupyterhub"]
    assert router["rule"] == 'PathPrefix(`{{ env "JUPYTERHUB_BASE_URL" }}`)'
    assert router["entryPoints"] == ["websecure"] and "tls" in router
    server = routes["http"]["services"]["jupyterhub"]["loadBalancer"]["servers"][0]["url"]
    assert server == "http://jupyterhub-edge:8000"
    store = routes["tls"]["stores"]["default"]["defaultCertificate"]
    assert store == {"certFile": "/certs/cert.pem", "keyFile": "/certs/key.pem"}
    hub_labels = labels(hub)
    assert not [k for k in hub_labels if k.startswith("traefik.")]
    # HSTS on every answer, and the hub knows a TLS proxy is in front (Secure cookies).
    assert router["middlewares"] == ["jupyterhub-compress", "jupyterhub-hsts"]
    hsts = routes["http"]["middlewares"]["jupyterhub-hsts"]["headers"]["stsSeconds"]
    assert int(hsts) >= 31536000
    assert hub["environment"]["JUPYTERHUB_TLS_PROXY"] == "1"

    # Every image is pinned to a version (the hub's is this repository's own build).
    for name, service in services.items():
        image = service["image"]
        if name in ("jupyterhub", "certs"):
            assert image == "dshub-hub:latest"
            continue
        tag = image.rpartition(":")[2]
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: {image} is not pinned"

    # The labs' network has the hub, not Traefik; Traefik reaches the hub on the edge network.
    assert set(traefik["networks"]) == {"dshub_edge"}
    assert set(hub["networks"]) == {"dshub_edge", "jupyterhub_network"}
    assert hub["networks"]["dshub_edge"]["aliases"] == ["jupyterhub-edge"]

    # The hub: socket, data volume, shared volume, the lab network, a real health check.
    hub_mounts = mounts(hub)
    assert hub_mounts["/var/run/docker.sock"] == "/var/run/docker.sock"
    assert hub_mounts["/data"] in ("data", "jupyterhub_data")
    assert hub_mounts["/mnt/shared"] in ("shared", "jupyterhub_shared")
    assert config["volumes"]["shared"]["name"] == "jupyterhub_shared"
    assert config["volumes"]["data"]["name"] == "jupyterhub_data"
    assert config["networks"]["jupyterhub_network"]["name"] == "jupyterhub_network"
    assert hub["environment"]["DOCKER_NETWORK_NAME"] == "jupyterhub_network"
    assert hub["environment"]["JUPYTERHUB_BASE_URL"] == "/jupyterhub"
    assert hub["healthcheck"]["test"] == ["CMD", "python", "-m", "portal.platform.healthcheck"]

    # Watchtower: on a schedule, only containers that opt in within its scope.
    env = tower["environment"]
    assert env["WATCHTOWER_LABEL_ENABLE"] == "true" and env["WATCHTOWER_SCHEDULE"]
    scope = env["WATCHTOWER_SCOPE"]
    for service in (traefik, tower):
        assert labels(service)["com.centurylinklabs.watchtower.enable"] == "true"
        assert labels(service)["com.centurylinklabs.watchtower.scope"] == scope
    # A locally built hub image cannot be pulled: opt-in only.
    assert hub_labels["com.centurylinklabs.watchtower.enable"] == "false"


def test_compose_settings_come_from_the_environment():
    config = compose_config("compose.yml", JUPYTERHUB_BASE_URL="/ds", JUPYTERHUB_HOST="hub.test",
                            JUPYTERHUB_IMAGE="registry.example.test/dshub-hub:1",
                            JUPYTERHUB_AUTO_UPDATE="true", HTTPS_PORT="8443")
    hub, certs = config["services"]["jupyterhub"], config["services"]["certs"]
    assert config["services"]["traefik"]["environment"]["JUPYTERHUB_BASE_URL"] == "/ds"
    assert labels(hub)["com.centurylinklabs.watchtower.enable"] == "true"
    assert hub["image"] == certs["image"] == "registry.example.test/dshub-hub:1"
    assert certs["command"][-2:] == ["--host", "hub.test"]
    assert published(config["services"]["traefik"]) == {8443}


def test_compose_with_the_example_override():
    config = compose_config("compose.yml", "compose_override.example.yml", **NAS)
    hub = config["services"]["jupyterhub"]
    assert hub["command"] == ["jupyterhub", "-f", "/srv/jupyterhub/custom_config.py"]
    assert hub["environment"]["ENABLE_GPU_SUPPORT"] == "2"
    assert hub["environment"]["ENABLE_SIGNUP"] == "0"
    hub_mounts = mounts(hub)
    assert hub_mounts["/srv/jupyterhub/custom_config.py"].endswith("config/custom_config.py")
    assert "/var/run/docker.sock" in hub_mounts and "/data" in hub_mounts  # merged, not replaced
    shared = config["volumes"]["shared"]
    assert shared["name"] == "jupyterhub_shared"
    assert shared["driver_opts"]["type"] == "cifs"
    assert shared["driver_opts"]["device"] == "//nas.example.test/shared"
    assert "password=s3cret-Pw" in shared["driver_opts"]["o"]
    # The credentials come from the environment / .env, never from the files themselves.
    override = (ROOT / "compose_override.example.yml").read_text()
    assert "password=${NAS_PASSWORD:?" in override and "username=${NAS_USERNAME:?" in override
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in override

    # PostgreSQL: a pinned image, its own volume, reachable by the hub only (internal network).
    pg = config["services"]["postgres"]
    assert re.fullmatch(r"postgres:\d+\.\d+-bookworm", pg["image"])
    assert mounts(pg)["/var/lib/postgresql/data"] in ("postgres", "dshub_postgres")
    assert config["volumes"]["postgres"]["name"] == "dshub_postgres"
    assert pg["environment"]["POSTGRES_PASSWORD"] == "pg0secret"
    url = "postgresql://dshub:pg0secret@postgres:5432/dshub"
    assert hub["environment"]["JUPYTERHUB_DATABASE_URL"] == url
    assert hub["environment"]["PORTAL_DATABASE_URL"] == url
    assert set(pg["networks"]) == {"database"} and config["networks"]["database"]["internal"]
    assert {"database", "jupyterhub_network"} <= set(hub["networks"])
    assert hub["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert not published(pg)


def test_compose_override_requires_the_nas_credentials():
    args = [*compose_command(), "-f", "compose.yml", "-f", "compose_override.example.yml",
            "config"]
    env = {k: v for k, v in NAS.items() if k != "NAS_PASSWORD"}
    out = subprocess.run(args, cwd=ROOT, env=compose_env(**env), capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0
    assert "NAS_PASSWORD" in out.stderr


def test_start_sh_merges_compose_override_when_present(tmp_path):
    for name in ("start.sh", "compose.yml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    alone = subprocess.run(["./start.sh", "config"], cwd=tmp_path, env=compose_env(**NAS),
                           capture_output=True, text=True, timeout=60)
    assert alone.returncode == 0, alone.stderr
    assert "cifs" not in alone.stdout and "using compose_override.yml" not in alone.stdout
    shutil.copy2(ROOT / "compose_override.example.yml", tmp_path / "compose_override.yml")
    merged = subprocess.run(["./start.sh", "config"], cwd=tmp_path, env=compose_env(**NAS),
                            capture_output=True, text=True, timeout=60)
    assert merged.returncode == 0, merged.stderr
    assert "using compose_override.yml" in merged.stdout
    assert "cifs" in merged.stdout
    # The certificate is made for this machine's name when JUPYTERHUB_HOST is not set.
    name = subprocess.run(["sh", "-c", "hostname -f 2>/dev/null || hostname"],
                          capture_output=True, text=True).stdout.strip()
    assert f"JUPYTERHUB_HOST: {name}" in merged.stdout


def test_compose_certs_service_makes_traefiks_certificate_once(hub_image, docker_client):
    """Run the `certs` service's own command from compose.yml in the hub image."""
    certs = compose_config("compose.yml", JUPYTERHUB_HOST="hub.example.test")["services"]["certs"]
    volume = f"{PREFIX}prod-certs"
    try:
        first = _run(hub_image, *certs["command"], volumes=(f"{volume}:/certs",))
        assert first.returncode == 0, first.stderr
        read = _run(hub_image, "sh", "-c", "cat /certs/cert.pem; "
                    "stat -c %a /certs/key.pem", volumes=(f"{volume}:/certs:ro",))
        text = read.stdout.decode()
        cert = x509.load_pem_x509_certificate(text.encode())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "hub.example.test" in san.get_values_for_type(x509.DNSName)
        assert text.strip().endswith("600")
        # A second start (or the operator's own pair) leaves the certificate alone.
        again = _run(hub_image, *certs["command"], volumes=(f"{volume}:/certs",))
        assert again.returncode == 0 and b"Using the existing certificate" in again.stdout
        after = _run(hub_image, "cat", "/certs/cert.pem", volumes=(f"{volume}:/certs:ro",))
        assert after.stdout.decode() in text
    finally:
        for v in docker_client.volumes.list(filters={"name": volume}):
            v.remove(force=True)
