# Benchmark hub: the test hub's configuration, with every Docker object named dshubbench-* (or
# DSHUB_BENCH_PREFIX*) so a test session's clean-up (dshubtest-*) and ours never touch each
# other's objects.
import json
import os

c = get_config()  # noqa: F821 (provided by JupyterHub)
here = os.path.dirname(os.path.abspath(__file__))
load_subconfig(os.path.join(here, "..", "tests", "support", "jupyterhub_test_config.py"))  # noqa: F821

# Figures with production's password cost (the tests lower it); a quick run, whose figures are
# not kept, lowers it too (DSHUB_BENCH_BCRYPT_ROUNDS=4, benchmarks/common.quick_run).
c.DSHubAuthenticator.bcrypt_rounds = int(os.environ.get("DSHUB_BENCH_BCRYPT_ROUNDS", "12"))

_prefix = os.environ.get("DSHUB_BENCH_PREFIX", "dshubbench-")
c.PortalSpawner.name_template = _prefix + "jupyterlab-{username}"
c.PortalSpawner.volume_name_template = _prefix + "jupyterlab-{username}_{volume}"
# Named servers' own volumes (the test configuration's template names them dshubtest-*).
c.PortalSpawner.server_volume_template = _prefix + "jupyterlab-{username}--{servername}_{volume}"
c.PortalSpawner.shared_volume_name = _prefix + "shared"
# Two cores shared with other work: a first spawn can be slow.
c.PortalSpawner.start_timeout = 120
# 20 labs starting at once on two cores (swarm_spawn): JupyterLab may need over the default 30 s
# to answer.
c.PortalSpawner.http_timeout = 180

# DSHUB_BENCH_IMAGES='{"user": "image"}': a lab image per user (the SIGTERM-ignoring lab).
_images = json.loads(os.environ.get("DSHUB_BENCH_IMAGES") or "{}")


def _bench_image(spawner):
    image = _images.get(spawner.user.name)
    if image:
        spawner.image = image


c.PortalSpawner.pre_spawn_hook = _bench_image

# Broadcast fan-out: users named stub<port> get no container; their "server" is one of the
# benchmark's loopback stand-ins on 127.0.0.1:<port>, so the real sending code reaches 1,000.
import re  # noqa: E402

from portal.lab.spawner import PortalSpawner  # noqa: E402
from portal.operations.states import ServerChange  # noqa: E402


class BenchSpawner(PortalSpawner):
    def _stub_port(self) -> int | None:
        found = re.fullmatch(r"stub(\d+)", self.user.name)
        return int(found[1]) if found else None

    async def start(self):
        port = self._stub_port()
        if not port:
            return await super().start()
        # Told to open pages as the real spawner tells them (pushed updates, hub_scale).
        self._report(ServerChange.START_REQUESTED)
        return ("127.0.0.1", port)

    async def poll(self):
        return None if self._stub_port() else await super().poll()

    async def stop(self, now=False):
        if not self._stub_port():
            await super().stop(now=now)
            return
        self._report(ServerChange.STOPPING)
        self._report(ServerChange.STOPPED)


# The tests poll each server every 5 s; DSHUB_BENCH_POLL_INTERVAL=30 measures production's
# JupyterHub default instead (hub_scale: 2,000 servers polled every 5 s are 400 polls a second).
if os.environ.get("DSHUB_BENCH_POLL_INTERVAL"):
    c.PortalSpawner.poll_interval = int(os.environ["DSHUB_BENCH_POLL_INTERVAL"])

# Swarm mode (benchmarks/swarm_spawn.py) keeps the configuration's PortalSwarmSpawner.
if os.environ.get("DOCKER_SWARM") != "1":
    c.JupyterHub.spawner_class = BenchSpawner
# What-if runs of the fan-out with another bound on concurrent sends (default: the portal's).
if os.environ.get("DSHUB_BENCH_BROADCAST_CONCURRENCY"):
    _runtime = c.JupyterHub.tornado_settings["dshub_portal"]
    _runtime.broadcaster.concurrency = int(os.environ["DSHUB_BENCH_BROADCAST_CONCURRENCY"])

# Garbage-collector pauses of the hub process (>= 20 ms) go to its log, so a benchmark can tell a
# GC pause (which holds the GIL: every thread stops) from a blocking call in a handler.
if os.environ.get("DSHUB_BENCH_GC_LOG") == "1":
    import gc  # noqa: E402
    import sys  # noqa: E402
    import time  # noqa: E402

    _gc_began = [0.0]

    def _gc_pause(phase, info):
        if phase == "start":
            _gc_began[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - _gc_began[0]) * 1000
        if ms >= 20:
            print(f"DSHUB-BENCH-GC {time.time():.3f} gen{info['generation']} {ms:.0f} ms "
                  f"collected {info['collected']} frozen {gc.get_freeze_count()}",
                  file=sys.stderr, flush=True)

    gc.callbacks.append(_gc_pause)
