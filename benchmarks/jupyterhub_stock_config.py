# Stock JupyterHub for the baseline of benchmarks/hub_scale.py: no portal, JupyterHub's own
# defaults, on the same seeded database as the DS Hub run. Only what a run needs is set: the
# loopback ports and driver token of the test harness (tests/support/hub.py), the database, and
# a spawner that knows the benchmark's loopback stand-ins (stub<port>) as running servers.
import json
import os
import re

from jupyterhub.spawner import Spawner

c = get_config()  # noqa: F821 (provided by JupyterHub)
_data = os.environ["JUPYTERHUB_DATA_DIR"]
_ports = json.loads(os.environ["DSHUB_TEST_PORTS"])
c.JupyterHub.port = _ports["proxy"]
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = _ports["hub"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_ports['api']}"
c.JupyterHub.db_url = (os.environ.get("JUPYTERHUB_DATABASE_URL")
                       or f"sqlite:///{_data}/jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(_data, "jupyterhub_cookie_secret")
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = [{"name": "test-driver", "api_token": os.environ["DSHUB_TEST_TOKEN"]}]
c.JupyterHub.load_roles = [{
    "name": "test-driver", "services": ["test-driver"],
    "scopes": ["admin:users", "admin:servers", "list:users", "read:users", "admin:groups"],
}]


class StandInSpawner(Spawner):
    """stub<port>: the stand-in listening on 127.0.0.1:<port> (benchmarks/stubs.py)."""

    def _port(self) -> int:
        found = re.fullmatch(r"stub(\d+)", self.user.name)
        if not found:
            raise RuntimeError("the baseline hub runs only the benchmark's stand-ins")
        return int(found[1])

    async def start(self):
        return ("127.0.0.1", self._port())

    async def poll(self):
        return None if self.server is not None else 0

    async def stop(self, now=False):
        return None


c.JupyterHub.spawner_class = StandInSpawner
