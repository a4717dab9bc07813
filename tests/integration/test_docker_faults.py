"""The Docker engine out of reach: the portal says so and the rest of the hub keeps working."""

from __future__ import annotations

from tests.support.clients import PASSWORD, Portal, card_state, signup
from tests.support.hub import Hub


def test_unreachable_engine_is_reported_and_the_hub_keeps_working(tmp_path, docker_client):
    nowhere = tmp_path / "no-docker.sock"
    hub = Hub(tmp_path / "nodocker", base_url="/", env={"DOCKER_HOST": f"unix://{nowhere}"})
    hub.start()
    try:
        assert signup(hub, "admin").status_code == 200
        admin = Portal(hub, "admin", PASSWORD)
        page = admin.get("portal", htmx=False)
        assert page.status_code == 200
        assert "Docker cannot be reached" in page.text
        assert card_state(page.text) == "stopped"
        assert ">Start</button>" not in page.text  # no start offered while Docker is away
        r = admin.get("portal/users/admin/volumes")
        assert r.status_code == 200 and "Docker cannot be reached" in r.text
        r = admin.post("portal/users/admin/volumes/reset", {"volume": ["home"], "confirm": "yes"})
        assert r.status_code == 200 and "Not reset: home" in r.text
        assert admin.get("home", htmx=False).status_code == 200
        assert admin.get("admin", htmx=False).status_code == 200
        assert admin.get("portal/admin", htmx=False).status_code == 200
    finally:
        hub.stop()
