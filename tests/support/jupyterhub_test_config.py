# Test hub: the production configuration plus a driver service, loopback ports chosen by the
# test run, and a prefix (`dshubtest-` unless DSHUB_TEST_PREFIX says otherwise) on every Docker
# object so clean-up touches only ours.
import json
import os

c = get_config()  # noqa: F821
here = os.path.dirname(os.path.abspath(__file__))
load_subconfig(os.path.join(here, "..", "..", "config", "jupyterhub_config.py"))  # noqa: F821

# bcrypt's cheapest cost: the suite signs in hundreds of times, and at the production cost (12)
# each hash or check took 0.25-0.85 s of a core. What the tests check of passwords (throttling,
# the bound on checks in flight, timing of unknown accounts) does not depend on the cost;
# benchmarks put the production cost back (benchmarks/jupyterhub_bench_config.py).
c.DSHubAuthenticator.bcrypt_rounds = int(os.environ.get("DSHUB_TEST_BCRYPT_ROUNDS", "4"))

ports = json.loads(os.environ["DSHUB_TEST_PORTS"])
c.JupyterHub.port = ports["proxy"]
c.JupyterHub.hub_port = ports["hub"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{ports['api']}"
if "labs" in ports:  # each hub's labs on ports of their own: test workers share the machine
    c.PortalSpawner.host_port_range = tuple(ports["labs"])
# The proxy outlives a hub restart in the restart test, like in production.
c.ConfigurableHTTPProxy.should_start = True
prefix = os.environ.get("DSHUB_TEST_PREFIX", "dshubtest-")
c.PortalSpawner.name_template = prefix + "jupyterlab-{username}"
c.PortalSpawner.volume_name_template = prefix + "jupyterlab-{username}_{volume}"
# Named servers: their own volumes (the container gets `--{servername}` added by the spawner).
c.PortalSpawner.server_volume_template = prefix + "jupyterlab-{username}--{servername}_{volume}"
c.PortalSpawner.shared_volume_name = prefix + "shared"
c.GpuDetection.container_name = prefix + "gpu-probe"
c.PortalSpawner.pull_policy = "never"
c.PortalSpawner.start_timeout = 60
# A started lab must answer within this. JupyterHub's 30 s is short on two cores shared by the
# test passes, the benchmarks and a dozen labs starting at once (a run saw two spawns marked
# failed that way); a lab that exits is still noticed at once, by the spawner's poll.
c.PortalSpawner.http_timeout = 90
# Appended: portal.setup(c) registers its own service and role (broadcast) before this.
c.JupyterHub.services.append({"name": "test-driver", "api_token": os.environ["DSHUB_TEST_TOKEN"]})
c.JupyterHub.load_roles.append({
    "name": "test-driver",
    "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users",
               "tokens", "admin:groups"],
    "services": ["test-driver"],
})
# Broadcast tests: a script's service holding only the portal's broadcast scope, and users
# named noext* get a lab image without the notifications extension.
c.JupyterHub.services.append({"name": "test-broadcaster",
                              "api_token": "broadcast-" + os.environ["DSHUB_TEST_TOKEN"]})
c.JupyterHub.load_roles.append({"name": "test-broadcaster", "scopes": ["custom:dshub:broadcast"],
                                "services": ["test-broadcaster"]})
# Metrics tests: a scraper's service holding only read:metrics, as docs/operations.md sets one up.
c.JupyterHub.services.append({"name": "test-scraper",
                              "api_token": "scrape-" + os.environ["DSHUB_TEST_TOKEN"]})
c.JupyterHub.load_roles.append({"name": "test-scraper", "scopes": ["read:metrics"],
                                "services": ["test-scraper"]})


def _lab_image_for_tests(spawner):
    if spawner.user.name.startswith(os.environ.get("DSHUB_TEST_NOEXT_PREFIX", "noext")):
        spawner.image = "dshub-lab-noext:latest"
    # Users named standin* get the stand-in lab (images/lab-standin): the tests of what the hub
    # does with Docker, where JupyterLab's own start (1.5 CPU-s each) shows nothing more.
    elif spawner.user.name.startswith("standin"):
        spawner.image = "dshub-lab-standin:latest"


c.Spawner.pre_spawn_hook = _lab_image_for_tests
# GPU probe: never pulled in tests; a test may run it under another runtime (runc with a fake
# nvidia-smi image) and keep a container whose start failed, to inspect its request.
c.GpuDetection.pull = False
if os.environ.get("DSHUB_TEST_GPU_RUNTIME"):
    c.GpuDetection.runtime = os.environ["DSHUB_TEST_GPU_RUNTIME"]
if os.environ.get("DSHUB_TEST_GPU_TIMEOUT"):
    c.GpuDetection.timeout = float(os.environ["DSHUB_TEST_GPU_TIMEOUT"])
if os.environ.get("DSHUB_TEST_KEEP_CONTAINERS") == "1":
    c.PortalSpawner.keep_failed_containers = True
# A test's own additions (e.g. a hostile spawner configuration), loaded last.
if os.environ.get("DSHUB_TEST_EXTRA_CONFIG"):
    load_subconfig(os.environ["DSHUB_TEST_EXTRA_CONFIG"])  # noqa: F821
# The hub notices a lab that ended by itself (out of memory) within seconds, not half a minute.
c.PortalSpawner.poll_interval = 5


# The gate test (tests/integration/test_gate.py) walks every route this hub serves: its own
# handler list (pattern, handler class, the methods it implements), written into the data
# directory (the hub's cwd) once it serves.
def _write_routes():
    from tornado.web import RequestHandler

    from portal.platform.startup import when_hub_runs

    async def write(app):
        rows = []
        for pattern, cls, *_ in app.handlers:
            cls = getattr(cls, "dshub_gated_class", cls)  # the class before the gate wrapped it
            methods = [m.upper() for m in ("get", "post", "put", "patch", "delete")
                       if getattr(cls, m) is not getattr(RequestHandler, m)]
            rows.append({"pattern": pattern, "handler": f"{cls.__module__}.{cls.__qualname__}",
                         "methods": methods})
        # Once per start, a few kB: a write on the loop is cheaper than a thread here.
        with open("routes.json", "w") as f:  # noqa: ASYNC230
            json.dump(rows, f)

    when_hub_runs(write, "writing the route list for the gate test")


_write_routes()
