"""PortalSpawner's Docker names and host config, and the volume choice/failure text built on them.

No Docker, no hub: the spawner is built around a minimal fake user.
"""

from __future__ import annotations

import asyncio
import copy

import pytest

from portal.docker.service import DockerService
from portal.lab import container_policy as policy
from portal.lab.spawner import PortalSpawner
from portal.lab.volume_names import UserVolume
from portal.platform.errors import ActionRefused
from portal.servers.view import describe_failure
from portal.volumes.service import choose_volumes

SOCK_BIND = "/var/run/docker.sock:/var/run/docker.sock:rw"
NVIDIA = {"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}


class FakeGroup:
    def __init__(self, name: str) -> None:
        self.name = name


class FakeUser:
    def __init__(self, name: str, groups: tuple[str, ...] = ()) -> None:
        self.name = name
        self.id = 1
        self.groups = [FakeGroup(g) for g in groups]
        self.url = f"/user/{name}/"
        self.settings: dict = {}
        self.spawner: PortalSpawner | None = None


def make_spawner(name: str = "john.doe", groups: tuple[str, ...] = (), **traits) -> PortalSpawner:
    user = FakeUser(name, groups)
    spawner = PortalSpawner(user=user, hub=None, orm_spawner=None, **traits)
    user.spawner = spawner
    return spawner


def enforce(spawner: PortalSpawner, host_config: dict) -> None:
    """The spawner's last word on a create call's host config (container_policy.py)."""
    policy.finish_create({"host_config": host_config}, spawner.docker_access(),
                         spawner.gpu_enabled, spawner.lab_memory, spawner.lab_cpus, spawner.log,
                         spawner.user.name)


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "key", "volume"),
    [
        ("john.doe", "workspace", "jupyterlab-john-2edoe_workspace"),
        ("john.doe", "home", "jupyterlab-john-2edoe_home"),
        ("ann-marie", "home", "jupyterlab-ann-2dmarie_home"),
        ("bob_smith", "cache", "jupyterlab-bob-5fsmith_cache"),
        ("alice", "workspace", "jupyterlab-alice_workspace"),
    ],
)
def test_owned_volume_names_are_escaped(username, key, volume):
    names = {v.key: v.name for v in make_spawner(username).owned_volumes()}
    assert names[key] == volume


def test_owned_volumes_keys_mounts_and_order():
    volumes = make_spawner("john.doe").owned_volumes()
    assert all(isinstance(v, UserVolume) for v in volumes)
    assert [(v.key, v.name, v.mount) for v in volumes] == [
        ("home", "jupyterlab-john-2edoe_home", "/home"),
        ("workspace", "jupyterlab-john-2edoe_workspace", "/home/lab/workspace"),
        ("cache", "jupyterlab-john-2edoe_cache", "/home/lab/.cache"),
    ]


def test_owned_volumes_default_descriptions():
    described = {v.key: v.description for v in make_spawner().owned_volumes()}
    assert described == {
        "home": "Your home directory: settings, shell history, installed tools",
        "workspace": "Your projects and notebooks",
        "cache": "Downloaded packages and models; safe to reset",
    }


@pytest.mark.parametrize(
    ("username", "object_name"),
    [
        ("john.doe", "jupyterlab-john-2edoe"),
        ("ann-marie", "jupyterlab-ann-2dmarie"),
        ("bob_smith", "jupyterlab-bob-5fsmith"),
    ],
)
def test_container_name_is_escaped(username, object_name):
    assert make_spawner(username).object_name == object_name


def test_shared_volume():
    shared = make_spawner().shared_volume()
    assert shared == UserVolume(
        key="shared",
        name="jupyterhub_shared",
        mount="/mnt/shared",
        description="Shared with every user of the hub",
    )


def test_volume_binds_use_the_same_names_as_owned_volumes():
    spawner = make_spawner("john.doe")
    binds = spawner.volume_binds
    for volume in spawner.owned_volumes():
        assert binds[volume.name] == {"bind": volume.mount, "mode": "rw"}
    assert binds["jupyterhub_shared"] == {"bind": "/mnt/shared", "mode": "rw"}
    assert len(binds) == 4


def test_volume_descriptions_are_configurable():
    spawner = make_spawner(volume_descriptions={"home": "Home sweet home", "shared": "Team drive"})
    described = {v.key: v.description for v in spawner.owned_volumes()}
    assert described == {"home": "Home sweet home", "workspace": "", "cache": ""}
    assert spawner.shared_volume().description == "Team drive"


def test_user_volumes_and_shared_volume_are_configurable():
    spawner = make_spawner(
        "ann-marie",
        user_volumes={"data": "/data"},
        shared_volume_name="team_share",
        shared_volume_mount="/mnt/team",
    )
    assert [(v.key, v.name, v.mount) for v in spawner.owned_volumes()] == [
        ("data", "jupyterlab-ann-2dmarie_data", "/data")
    ]
    assert (spawner.shared_volume().name, spawner.shared_volume().mount) == (
        "team_share",
        "/mnt/team",
    )
    assert set(spawner.volume_binds) == {"jupyterlab-ann-2dmarie_data", "team_share"}


@pytest.mark.parametrize(
    ("groups", "access"),
    [
        ((), (False, False)),
        (("docker-sock",), (True, False)),
        (("docker-privileged",), (False, True)),
        (("docker-sock", "docker-privileged", "other"), (True, True)),
        (("docker", "sock", "privileged"), (False, False)),
    ],
)
def test_docker_access_follows_groups(groups, access):
    assert make_spawner(groups=groups).docker_access() == access


# --- host config ---------------------------------------------------------------------------


def hostile_host_config() -> dict:
    """What a careless config or an earlier spawn could have put in the create call."""
    return {
        "Binds": [
            "jupyterlab-john-2edoe_home:/home:rw",
            "/var/run/docker.sock:/var/run/docker.sock:rw",
            "/var/run/docker.sock:/tmp/docker.sock",
            "/srv/data:/data:ro",
        ],
        "Mounts": [
            {"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/run/d.sock"},
            {"Type": "volume", "Source": "jupyterhub_shared", "Target": "/mnt/shared"},
        ],
        "Privileged": True,
        "DeviceRequests": [dict(NVIDIA)],
        "AutoRemove": True,
    }


def test_non_member_loses_socket_and_privileges():
    spawner = make_spawner()
    config = hostile_host_config()
    enforce(spawner, config)
    assert config["Binds"] == ["jupyterlab-john-2edoe_home:/home:rw", "/srv/data:/data:ro"]
    assert config["Mounts"] == [
        {"Type": "volume", "Source": "jupyterhub_shared", "Target": "/mnt/shared"}
    ]
    assert config["Privileged"] is False
    assert config["AutoRemove"] is False
    # GPU is off: an nvidia request from elsewhere is dropped, leaving none.
    assert config["DeviceRequests"] is None
    assert not any("docker.sock" in b for b in config["Binds"])


def test_sock_member_gets_exactly_one_socket_bind():
    spawner = make_spawner(groups=("docker-sock",))
    config = hostile_host_config()
    enforce(spawner, config)
    assert config["Binds"] == [
        "jupyterlab-john-2edoe_home:/home:rw",
        "/srv/data:/data:ro",
        SOCK_BIND,
    ]
    assert config["Privileged"] is False
    assert config["AutoRemove"] is False


def test_privileged_member_gets_privileged_but_no_socket():
    spawner = make_spawner(groups=("docker-privileged",))
    config = {"Binds": [], "Mounts": [], "Privileged": False, "DeviceRequests": None}
    enforce(spawner, config)
    assert config["Privileged"] is True
    assert config["Binds"] == []
    assert config["AutoRemove"] is False


def test_member_of_both_groups():
    spawner = make_spawner(groups=("docker-privileged", "docker-sock"))
    config = {"Binds": None, "Mounts": None, "Privileged": None, "DeviceRequests": None}
    enforce(spawner, config)
    assert config["Binds"] == [SOCK_BIND]
    assert config["Mounts"] == []
    assert config["Privileged"] is True


def test_gpu_enabled_adds_one_nvidia_request():
    spawner = make_spawner(gpu_enabled=True)
    other = {"Driver": "other", "Count": 1}
    config = {"Binds": [], "Mounts": [], "DeviceRequests": [dict(NVIDIA), other]}
    enforce(spawner, config)
    assert config["DeviceRequests"] == [other, NVIDIA]
    assert config["AutoRemove"] is False


def test_gpu_request_is_a_copy_of_the_constant():
    spawner = make_spawner(gpu_enabled=True)
    first: dict = {}
    second: dict = {}
    enforce(spawner, first)
    first["DeviceRequests"][0]["Count"] = 1
    enforce(spawner, second)
    assert second["DeviceRequests"] == [NVIDIA]


def test_gpu_disabled_keeps_other_device_requests():
    spawner = make_spawner(gpu_enabled=False)
    other = {"Driver": "other", "Count": 1}
    config = {"DeviceRequests": [other, dict(NVIDIA)]}
    enforce(spawner, config)
    assert config["DeviceRequests"] == [other]


def test_empty_host_config_is_filled_in():
    config: dict = {}
    enforce(make_spawner(), config)
    assert config == {
        "Binds": [],
        "Mounts": [],
        "Privileged": False,
        "AutoRemove": False,
        "DeviceRequests": None,
        "VolumesFrom": None,
        # No limits configured: memory, swap and CPUs explicitly unlimited.
        "Memory": 0,
        "MemorySwap": 0,
        "NanoCpus": 0,
    }


def test_enforcement_is_idempotent():
    spawner = make_spawner(groups=("docker-sock",), gpu_enabled=True)
    config = hostile_host_config()
    enforce(spawner, config)
    once = copy.deepcopy(config)
    enforce(spawner, config)
    assert config == once
    assert config["Binds"].count(SOCK_BIND) == 1
    assert config["DeviceRequests"] == [NVIDIA]


def test_group_change_between_spawns_takes_effect():
    spawner = make_spawner(groups=("docker-sock", "docker-privileged"))
    granted = hostile_host_config()
    enforce(spawner, granted)
    spawner.user.groups = []
    # Reuse the previous create call's config, as a stale one would be.
    enforce(spawner, granted)
    assert SOCK_BIND not in granted["Binds"]
    assert granted["Privileged"] is False


def test_create_container_goes_through_enforcement(monkeypatch):
    calls = []

    def api_call(self, method, args, kwargs, bound=None):
        calls.append((method, args, kwargs))
        return "sent"

    monkeypatch.setattr(DockerService, "api_call", api_call)
    spawner = make_spawner()
    config = {"Binds": [SOCK_BIND], "Privileged": True}
    assert spawner.docker("create_container", "image", host_config=config) == "sent"
    assert spawner.docker("inspect_container", "abc") == "sent"
    (create_method, _, create_kwargs), (other_method, _, other_kwargs) = calls
    assert create_method == "create_container"
    assert create_kwargs["host_config"]["Binds"] == []
    assert create_kwargs["host_config"]["Privileged"] is False
    assert other_method == "inspect_container"
    assert other_kwargs == {}


def test_create_container_without_host_config_gets_one(monkeypatch):
    seen = {}

    def api_call(self, method, args, kwargs, bound=None):
        seen.update(kwargs)

    monkeypatch.setattr(DockerService, "api_call", api_call)
    make_spawner(groups=("docker-privileged",)).docker("create_container", "image")
    assert seen["host_config"]["Privileged"] is True
    assert seen["host_config"]["AutoRemove"] is False


# --- host network state --------------------------------------------------------------------


def test_host_port_is_kept_in_state_and_restored():
    spawner = make_spawner(network_name="host")
    assert spawner.host_network is True
    spawner.host_port = 54321
    state = spawner.get_state()
    assert state["host_port"] == 54321

    restored = make_spawner(network_name="host")
    restored.load_state(state)
    assert restored.host_port == 54321
    assert restored.port == 54321
    assert asyncio.run(restored.get_ip_and_port()) == ("127.0.0.1", 54321)

    restored.clear_state()
    assert restored.host_port == 0


def test_bridge_network_state_has_no_host_port():
    spawner = make_spawner(network_name="jupyterhub_network")
    spawner.host_port = 1234
    assert spawner.host_network is False
    assert "host_port" not in spawner.get_state()


# --- choose_volumes ------------------------------------------------------------------------


@pytest.fixture
def john() -> FakeUser:
    return make_spawner("john.doe").user


@pytest.mark.parametrize(
    "keys",
    [
        [],
        [""],
        ["   "],
        ["", " "],
    ],
    ids=["nothing", "empty", "blank", "blanks"],
)
def test_choose_nothing_is_refused(john, keys):
    with pytest.raises(ActionRefused) as caught:
        choose_volumes(john, keys)
    assert caught.value.status == 400
    assert caught.value.message == "Choose at least one volume to reset."


@pytest.mark.parametrize(
    "keys",
    [
        ["nope"],
        ["shared"],
        ["jupyterhub_shared"],
        ["jupyterlab-ann-2dmarie_home"],
        ["jupyterlab-john-2edoe_home"],  # a real name is not a key
        ["home", "jupyterhub_shared"],
        ["home", ""],
        ["HOME"],
    ],
)
def test_anything_but_own_keys_is_refused(john, keys):
    with pytest.raises(ActionRefused) as caught:
        choose_volumes(john, keys)
    refusal = caught.value
    assert refusal.status == 400
    assert refusal.message.startswith("Not one of your volumes: ")
    assert refusal.message.endswith("You can reset: home, workspace, cache.")
    assert str(refusal) == refusal.message


def test_refusal_names_the_unknown_keys_only(john):
    with pytest.raises(ActionRefused) as caught:
        choose_volumes(john, ["home", "jupyterhub_shared", "other"])
    assert caught.value.message == (
        "Not one of your volumes: 'jupyterhub_shared', 'other'. "
        "You can reset: home, workspace, cache."
    )


def test_refusal_truncates_long_and_many_keys(john):
    keys = ["x" * 100] + [f"k{i}" for i in range(10)]
    with pytest.raises(ActionRefused) as caught:
        choose_volumes(john, keys)
    message = caught.value.message
    assert repr("x" * 40) in message
    assert "x" * 41 not in message
    assert "'k3'" in message
    assert "'k4'" not in message


def test_valid_keys_map_to_own_volumes(john):
    chosen = choose_volumes(john, ["cache", "home"])
    assert [(v.key, v.name, v.mount) for v in chosen] == [
        ("cache", "jupyterlab-john-2edoe_cache", "/home/lab/.cache"),
        ("home", "jupyterlab-john-2edoe_home", "/home"),
    ]


def test_duplicates_collapse_and_keys_are_stripped(john):
    chosen = choose_volumes(john, ["workspace", " workspace ", "workspace", "cache", "cache"])
    assert [v.name for v in chosen] == [
        "jupyterlab-john-2edoe_workspace",
        "jupyterlab-john-2edoe_cache",
    ]


def test_choose_accepts_any_iterable(john):
    chosen = choose_volumes(john, (k for k in ["home"]))
    assert [v.key for v in chosen] == ["home"]


def test_choice_is_always_the_requesting_users_volumes():
    ann = make_spawner("ann-marie").user
    bob = make_spawner("bob_smith").user
    assert [v.name for v in choose_volumes(ann, ["home"])] == ["jupyterlab-ann-2dmarie_home"]
    assert [v.name for v in choose_volumes(bob, ["cache"])] == ["jupyterlab-bob-5fsmith_cache"]


# --- describe_failure ----------------------------------------------------------------------


class ImageNotFound(Exception):
    """Named like docker.errors.ImageNotFound, which describe_failure recognises by name."""


def test_failure_without_error():
    assert describe_failure(None) == "The server failed to start."


def test_image_not_found_by_type_name():
    text = describe_failure(ImageNotFound("No such image: labimage"))
    assert text == "The lab image is not available on this host (labimage)."


def test_image_not_found_by_message():
    text = describe_failure(RuntimeError("Error: No such image: sha256abc"))
    assert text == "The lab image is not available on this host (sha256abc)."


def test_image_not_found_from_docker_py_is_recognised():
    from docker.errors import ImageNotFound as DockerImageNotFound

    text = describe_failure(DockerImageNotFound("No such image: lab"))
    assert text.startswith("The lab image is not available on this host (")
    assert text.endswith(").")


class SpawnTimeout(Exception):
    """Not a TimeoutError, but named like one (tornado's and others' are)."""


@pytest.mark.parametrize(
    "error",
    [
        TimeoutError(),
        SpawnTimeout("waited 120s"),
        RuntimeError("Spawn timed out after 120s"),
    ],
    ids=["TimeoutError", "by-name", "by-message"],
)
def test_timeout(error):
    assert describe_failure(error) == (
        "The server did not come up in time. Try again, or ask an admin to check the logs."
    )


def test_gpu_failure():
    error = RuntimeError('could not select device driver "nvidia" with capabilities: [[gpu]]')
    assert describe_failure(error) == (
        "The GPU could not be given to your server: "
        'could not select device driver "nvidia" with capabilities: [[gpu]]'
    )


def test_other_failure_and_empty_message():
    assert describe_failure(RuntimeError("disk full")) == "The server failed to start: disk full"
    assert describe_failure(KeyError()) == "The server failed to start: KeyError"


def test_spawn_progress_reports_each_phase_once():
    """The hub's progress API gets the spawner's phases while the spawn is pending."""
    import asyncio

    from portal.platform.tasks import wait_until

    spawner = make_spawner("progress.user")

    async def run() -> list[dict]:
        spawner._spawn_pending = True
        events: list[dict] = []

        async def collect() -> None:
            async for event in spawner.progress():
                events.append(event)

        task = asyncio.ensure_future(collect())
        phases = [(15, "Checking the lab image"), (35, "Creating your container"),
                  (55, "Starting your container")]
        for seen, (progress, message) in enumerate(phases, start=1):
            spawner.steps.begin(progress, message)
            # The progress stream's turn, however late it comes on a busy machine.
            assert await wait_until(lambda n=seen: len(events) >= n, 30, 0.01)
        spawner._spawn_pending = False
        await asyncio.wait_for(task, 30)
        return events

    events = asyncio.run(run())
    assert [e["message"] for e in events] == [
        "Checking the lab image", "Creating your container", "Starting your container"]
    assert [e["progress"] for e in events] == [15, 35, 55]
    spawner.clear_state()
    assert spawner.phase == ""


# --- engine paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ["/var/run/../run/docker.sock", "/var/run/../var/run/docker.sock", "/run/./docker.sock",
     "/var/run/docker.sock/", "//run//docker.sock", "/run/docker.sock", "/var/run", "/run/",
     "/", "/var", "/var/", "/run/containerd/containerd.sock",
     "/var/run/containerd/containerd.sock", "/run/docker/containerd/containerd.sock",
     "/var/lock/../docker.sock", "/srv/../run/docker.sock"],
)
def test_engine_paths_never_reach_a_lab(source):
    for groups in ((), ("docker-sock",)):
        config = {
            "Binds": [f"{source}:/x:rw", "/srv/data:/data:ro", "vol_home:/home:rw"],
            "Mounts": [{"Type": "bind", "Source": source, "Target": "/y"},
                       {"Type": "volume", "Source": "bound", "Target": "/z",
                        "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {
                            "type": "none", "o": "bind", "device": source}}}}],
            "VolumesFrom": ["jupyterhub"],
        }
        enforce(make_spawner(groups=groups), config)
        expected = ["/srv/data:/data:ro", "vol_home:/home:rw"]
        assert config["Binds"] == expected + ([SOCK_BIND] if groups else [])
        assert config["Mounts"] == []
        assert config["VolumesFrom"] is None


@pytest.mark.parametrize("source", ["/srv/run", "/var/lib/data", "/running", "/home/run"])
def test_ordinary_host_paths_stay(source):
    config = {"Binds": [f"{source}:/x:ro"]}
    enforce(make_spawner(), config)
    assert config["Binds"] == [f"{source}:/x:ro"]


def test_remove_false_is_ignored():
    from traitlets.config import Config

    spawner = make_spawner()
    assert spawner.remove is True
    spawner.remove = False
    assert spawner.remove is True
    # A configured False gets past traitlets' validation; start and stop force removal.
    config = Config()
    config.PortalSpawner.remove = False
    configured = PortalSpawner(config=config)
    configured.force_removal()
    assert configured.remove is True


def test_a_poll_during_the_portals_restart_is_not_the_labs_end(monkeypatch):
    """`docker restart` leaves the container exited for a moment: a hub poll in that moment
    stopped the server and removed the container in the middle of the restart (a UI test saw
    the lab stop after a restart and never come back)."""
    import asyncio

    from dockerspawner import DockerSpawner

    spawner = make_spawner("restarting.user")
    polled: list[str] = []

    async def exited(self) -> int:
        polled.append("docker")
        return 0

    monkeypatch.setattr(DockerSpawner, "poll", exited)
    monkeypatch.setattr(PortalSpawner, "ended_container", lambda self: asyncio.sleep(0))

    class RestartingEngine:
        def __init__(self) -> None:
            self.release = asyncio.Event()

        async def restart(self, name: str) -> str:
            await self.release.wait()
            return name

    async def run() -> tuple[int | None, int | None]:
        engine = RestartingEngine()
        restart = asyncio.ensure_future(spawner.location.restart(engine))
        await asyncio.sleep(0)  # the restart is under way (waiting on the engine)
        during = await spawner.poll()
        engine.release.set()
        await restart
        return during, await spawner.poll()

    during, after = asyncio.run(run())
    assert during is None and polled == ["docker"]  # not even asked during the restart
    assert after == 0  # afterwards an exited container is an end again


def test_a_refused_environment_is_described_in_its_own_words():
    from portal.lab.chosen_environment import choice_refused
    from portal.platform.errors import ActionRefused

    error = choice_refused(ActionRefused("You may not use 'gpu-lab': nothing was started."))
    assert error.status_code == 400
    assert describe_failure(error) == (
        "The server failed to start: You may not use 'gpu-lab': nothing was started.")
