"""Broadcast: validation (graphemes, types, auto-close, recipients), reasons, bounded sending.

Sending runs against small tornado servers on loopback standing in for labs: one delivers, one
has no extension (404), one refuses, one hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from portal.broadcast import broadcaster as b
from portal.broadcast import message as m
from portal.broadcast.targets import INGEST_PATH, Target
from portal.platform.errors import ActionRefused
from portal.store.database import PortalStore

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

FAMILY = "👩‍👩‍👧‍👦"  # one grapheme, 7 code points


@pytest.mark.parametrize("text,count", [
    ("hello", 5), (FAMILY, 1), ("🇫🇷🇩🇪", 2), ("e\u0301", 1), ("👍🏽x", 2), ("a\r\nb", 3), ("", 0),
])
def test_graphemes_are_counted_as_a_person_counts(text, count):
    assert m.grapheme_count(text) == count


def test_message_limits_and_cleaning():
    assert m.clean_message(FAMILY * 140) == FAMILY * 140
    assert m.clean_message("  hi \r\n there \n") == "hi \n there"
    with pytest.raises(ActionRefused, match="141 characters"):
        m.clean_message(FAMILY * 141)
    with pytest.raises(ActionRefused, match="141 characters"):
        m.clean_message("x" * 141)
    for bad in ("", "   ", "\n\t \u3000"):
        with pytest.raises(ActionRefused, match="cannot be empty"):
            m.clean_message(bad)
    with pytest.raises(ActionRefused, match="control"):
        m.clean_message("ring \x07")
    with pytest.raises(ActionRefused, match="text"):
        m.clean_message(None)
    assert m.clean_message("<b>kept</b> & shown") == "<b>kept</b> & shown"


def test_types_and_auto_close():
    for t in m.TYPES:
        assert m.check_type(t) == t
    for bad in ("Warning", "", None, "in progress", 3):
        with pytest.raises(ActionRefused, match="Unknown type"):
            m.check_type(bad)
    assert m.check_auto_close(None) is None
    assert m.check_auto_close(False) is None
    assert m.check_auto_close("never") is None
    assert m.check_auto_close("10") == 10
    assert m.check_auto_close(600) == 600
    for bad in (0, 601, -1, True, "1.5", "٣", "", 2.5, "ten"):
        with pytest.raises(ActionRefused, match="Auto-close"):
            m.check_auto_close(bad)


def test_recipients_and_payload():
    assert m.check_recipients(None) == m.Recipients()
    assert m.check_recipients("all").record() == {"all": True}
    chosen = m.check_recipients("users", [" bob", "ann", "bob", ""])
    assert chosen.record() == {"users": ["ann", "bob"]}
    with pytest.raises(ActionRefused, match="at least one group"):
        m.check_recipients("groups", [" "])
    with pytest.raises(ActionRefused):
        m.check_recipients("everyone")
    request = m.validate("Hi", "warning", None)
    assert request.payload() == {"message": "Hi", "type": "warning", "autoClose": False,
                                 "immediate": True}
    assert m.validate("Hi", "info", "7").payload()["autoClose"] == 7000


@pytest.mark.parametrize("code,body,ok,reason", [
    (200, b'{"success": true, "notification_id": "n1"}', True, "delivered"),
    (200, b"<html>", False, "refused (unexpected answer from the server)"),
    (404, b"", False, "extension not installed"),
    (403, b"", False, "refused (HTTP 403)"),
    (400, b'{"error": "bad payload"}', False, "refused (HTTP 400: bad payload)"),
    (302, b"", False, "refused (HTTP 302: redirected, the credential was not accepted)"),
    (599, b"", False, "unreachable or timed out"),
    (502, b"", False, "server error (HTTP 502)"),
])
def test_answers_become_plain_reasons(code, body, ok, reason):
    assert b.classify(code, body) == (ok, reason)


# --- sending against loopback stand-ins ----------------------------------------------------

class Lab(web.RequestHandler):
    """A lab whose behaviour is its user name: ok*, hang*, refuse."""

    def initialize(self, seen: list) -> None:
        self.seen = seen

    async def post(self, name: str) -> None:
        self.seen.append((self.request.headers.get("Authorization"),
                          json.loads(self.request.body)))
        if name.startswith("hang"):
            await asyncio.sleep(30)
        if name == "refuse":
            self.set_status(403)
        self.finish({"success": True, "notification_id": "n"})


@contextlib.asynccontextmanager
async def labs():
    # Started inside the test: a fixture's server could sit on another event loop.
    seen: list = []
    app = web.Application([
        (r"/user/(ok\d*|hang\d*|refuse)/jupyterlab-notifications-extension/ingest", Lab,
         {"seen": seen}),
    ])
    [sock] = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(app)
    server.add_sockets([sock])
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", seen
    server.stop()


def target(base: str, name: str) -> Target:
    return Target(name, f"{base}/user/{name}/{INGEST_PATH}")


def run(coro):
    """A loop of its own in a thread: Playwright's sync API holds the main thread's loop when
    the UI tests ran earlier in the same session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_send_ends_every_server_by_one_deadline_and_saves_the_results(tmp_path):
    run(_send_bounds(tmp_path))


async def _send_bounds(tmp_path):
    store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
    sender = b.Broadcaster("secret-token", store, timeout=0.5, concurrency=4)
    async with labs() as (base, seen):
        targets = [
            *(target(base, f"ok{i}") for i in range(6)),
            *(target(base, f"hang{i}") for i in range(6)),
            target(base, "refuse"),
            Target("absent", f"{base}/user/absent/{INGEST_PATH}"),  # 404: no extension
            Target("closed", "http://127.0.0.1:9/nothing"),  # nobody listens
            Target("stopped", None, b.NOT_RUNNING),
        ]
        outcome = await sender.send("admin", m.validate("Hello", "error", None), targets,
                                    lambda user: f"only-{user}")
    # Six hung servers, four at a time: all end by the one deadline, 0.5 s after the start, but
    # the two reached only then still get a fifth of the timeout. Not six timeouts, nor two.
    assert 0.5 <= outcome.seconds < 0.9, outcome.seconds
    reasons = {r.user: r.reason for r in outcome.results}
    assert reasons == {
        **{f"ok{i}": "delivered" for i in range(6)},
        **{f"hang{i}": "unreachable or timed out" for i in range(6)},
        "refuse": "refused (HTTP 403)", "absent": "extension not installed",
        "closed": "unreachable or timed out", "stopped": "not running",
    }
    assert (outcome.targeted, outcome.delivered, outcome.failed) == (16, 6, 10)
    # Each server got a credential of its own, never the service's token.
    auths = [auth for auth, _ in seen]
    assert len(set(auths)) == len(auths) and all(a.startswith("token only-") for a in auths)
    assert "token secret-token" not in auths
    assert seen[0][1] == {"message": "Hello", "type": "error", "autoClose": False,
                          "immediate": True}
    [saved] = await store.broadcasts()
    assert saved.id == outcome.id
    assert (saved.sender, saved.message, saved.type, saved.auto_close) == (
        "admin", "Hello", "error", None)
    assert saved.recipients == {"all": True}
    assert saved.delivered == 6 and saved.failed == 10
    assert saved.results[0] == {"user": "ok0", "server": "", "ok": True, "reason": "delivered",
                                "code": 200}


def test_nobody_to_send_to_is_still_recorded(tmp_path):
    store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
    outcome = run(b.Broadcaster("t", store).send("admin", m.validate("Hi"), [], str))
    assert outcome.targeted == 0 and outcome.saved
    assert len(run(store.broadcasts())) == 1
