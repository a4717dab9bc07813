"""ServerAction: what each action carries, and that routes, dispatch and bulk actions use it."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from portal.admin import bulk_actions
from portal.audit.log import EventKind
from portal.operations.action_names import ServerAction
from portal.platform import upstream
from portal.platform.errors import ActionRefused
from portal.servers import actions as server_actions
from portal.views import api, server

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

# Written out, not derived: a wrong entry in the enum must fail here.
# action: (name and URL segment, event kind, scope on JupyterHub 6.x, scope on 5.5)
EXPECTED = {
    ServerAction.START: ("start", EventKind.START, "start:servers", "servers"),
    ServerAction.STOP: ("stop", EventKind.STOP, "delete:servers", "delete:servers"),
    ServerAction.RESTART: ("restart", EventKind.RESTART, "servers", "servers"),
    ServerAction.RECREATE: ("recreate", EventKind.RECREATE, "servers", "servers"),
    ServerAction.UPDATE: ("update", EventKind.IMAGE_UPDATE, "servers", "servers"),
}


def test_every_action_is_listed():
    assert list(ServerAction) == list(EXPECTED)


@pytest.mark.parametrize("action", list(EXPECTED), ids=str)
def test_action_carries_its_name_event_segment_and_scopes(action):
    name, event, scope_6, scope_5 = EXPECTED[action]
    assert action == name and str(action) == name and f"{action}" == name
    assert action.segment == name
    assert action.event is event
    assert action.scope(start_servers=True) == scope_6
    assert action.scope(start_servers=False) == scope_5
    assert ServerAction(name) is action
    assert ServerAction.from_segment(name) is action


def test_the_event_log_keeps_its_words():
    assert [str(a.event) for a in ServerAction] == ["start", "stop", "restart", "re-create",
                                                      "image update"]


def test_json_and_forms_see_plain_strings():
    assert json.dumps({"kind": ServerAction.RECREATE}) == '{"kind": "recreate"}'


@pytest.mark.parametrize("segment", ["", "reset", "Start", "start/", "re-create", "x" * 100])
def test_unknown_segment_is_a_400(segment):
    with pytest.raises(ActionRefused) as refused:
        ServerAction.from_segment(segment)
    assert refused.value.status == 400
    assert refused.value.message == f"Unknown action: {segment[:40]}"


def test_routes_are_the_ones_before_the_enum():
    assert ServerAction.route_group() == "(start|stop|restart|recreate|update)"
    assert (r"/portal/users/([^/]+)/(start|stop|restart|recreate|update)",
            server.ServerActionHandler) in server.routes
    assert (r"/portal/api/users/([^/]+)/server/(start|stop|restart|recreate|update)",
            api.ServerActionAPI) in api.routes


def test_dispatch_has_one_entry_per_action():
    assert {
        ServerAction.START: server_actions.start,
        ServerAction.STOP: server_actions.stop,
        ServerAction.RESTART: server_actions.restart,
        ServerAction.RECREATE: server_actions.recreate,
        ServerAction.UPDATE: server_actions.update,
    } == server_actions.PERFORM


def test_bulk_actions_offer_stop_and_restart_under_their_old_names():
    assert bulk_actions.SERVER_ACTIONS == {ServerAction.STOP: "Stop their servers",
                                           ServerAction.RESTART: "Restart their servers"}
    assert bulk_actions.ACTIONS == ("stop", "restart", "group-add", "group-remove", "broadcast",
                                    "reset-password", "disable", "enable", "clear-2fa")


def fake_user(name: str, servers: dict[str, bool]) -> SimpleNamespace:
    """A hub user whose servers (name -> running) the bulk actions look at, oldest first."""
    spawners = {server: SimpleNamespace(active=running) for server, running in servers.items()}
    records = {server: SimpleNamespace(id=i) for i, server in enumerate(servers)}
    return SimpleNamespace(name=name, spawners=spawners, orm_spawners=records)


@pytest.mark.parametrize("action", [ServerAction.STOP, ServerAction.RESTART], ids=str)
async def test_bulk_server_action_reaches_act_as_the_enum_for_each_running_server(monkeypatch,
                                                                                 action):
    seen = []

    async def fake_act(what, user, runtime, hub):
        seen.append((what, user.name, hub))
        if user.name == "zed":
            raise ActionRefused("The server is not running.")

    monkeypatch.setattr(bulk_actions, "act", fake_act)
    users = {"ann": fake_user("ann", {"": True, "gpu": True, "old": False}),
             "cy": fake_user("cy", {"": False, "gpu": True}),
             "zed": fake_user("zed", {"": False, "idle": False})}
    results = await bulk_actions.run_bulk(
        str(action), ["ann", "bob", "cy", "zed"], runtime=None, hub=None, db=None,
        find_user=users.get, hub_for=lambda server: f"hub of {server or 'default'}")
    assert seen == [(action, "ann", "hub of default"), (action, "ann", "hub of gpu"),
                    (action, "cy", "hub of gpu"), (action, "zed", "hub of default")]
    assert all(what is action for what, _, _ in seen)
    requested = f"{action} requested"
    assert results == [bulk_actions.Result("ann", True, requested),
                       bulk_actions.Result("ann", True, requested, "gpu"),
                       bulk_actions.Result("bob", False, "no such user"),
                       bulk_actions.Result("cy", True, requested, "gpu"),
                       bulk_actions.Result("zed", False, "The server is not running.")]


async def test_bulk_refuses_an_action_it_does_not_offer():
    with pytest.raises(ActionRefused, match="Unknown bulk action 'start'"):
        await bulk_actions.run_bulk("start", ["ann"], runtime=None, hub=None, db=None,
                                    find_user=lambda name: None, hub_for=lambda server: None)


@pytest.mark.parametrize(("pending", "spawning", "stopping"), [
    ("spawn", True, False), ("stop", False, True), (None, False, False), ("check", False, False),
])
def test_the_hubs_own_pending_words(pending, spawning, stopping):
    spawner = SimpleNamespace(pending=pending)
    assert upstream.hub_spawning(spawner) is spawning
    assert upstream.hub_stopping(spawner) is stopping
