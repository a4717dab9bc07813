"""The in-process hub is the production hub minus Docker: the configuration file and
`portal.setup(c)` ran, the production authenticator signs in, the spawner is the PortalSpawner,
and the portal and the spawner share one DockerService over one in-memory engine."""

from __future__ import annotations

from tornado.httpclient import AsyncHTTPClient

from portal.auth.authenticator import DSHubAuthenticator
from portal.docker.service import DockerService
from portal.lab.spawner import PortalSpawner


def test_the_production_pieces_are_in_place(hub, engine, make_user):
    app = hub.app
    assert isinstance(app.authenticator, DSHubAuthenticator)
    assert issubclass(app.spawner_class, PortalSpawner)
    runtime = app.tornado_settings["dshub_portal"]
    assert isinstance(runtime.docker, DockerService)
    assert runtime.docker._api() is engine  # the seam: DockerService's client_factory
    user = make_user("wired")
    # One path to Docker: the spawner's calls, DockerSpawner's own included, use the portal's.
    assert hub.run(_spawner_docker(app, user.name)) is runtime.docker


async def _spawner_docker(app, name: str):
    return app.users[name].spawner.docker_service


async def test_an_async_client_reaches_the_hub_from_the_tests_own_loop(hub):
    """The hub serves on its own loop: a pytest-asyncio test's loop is only a client's."""
    r = await AsyncHTTPClient().fetch(hub.hub_url("health"), raise_error=False)
    assert r.code == 200
