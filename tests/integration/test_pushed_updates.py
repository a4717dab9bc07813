"""Pushed updates on the real hub: a change made outside the portal reaches open event streams,
from the spawner's own events (nothing scans the users)."""

from __future__ import annotations

import contextlib
import threading
import time

from tests.support.clients import Portal, card_state, ensure_running, user_path, wait_state

ARRIVES = 5.0  # s: the 1 s goal is measured by benchmarks/; here: pushed, well before any poll


class Stream:
    """One open /hub/portal/events stream, read in a thread; what arrived and when."""

    def __init__(self, portal: Portal) -> None:
        self.response = portal.s.get(portal.url("portal/events"), stream=True, timeout=60)
        assert self.response.status_code == 200, self.response.text[:300]
        self.heard: list[tuple[float, str]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):  # ends when the test closes the stream
            for chunk in self.response.iter_content(chunk_size=None):
                self.heard.append((time.monotonic(), chunk.decode()))

    def text(self, since: float = 0.0) -> str:
        return "".join(chunk for at, chunk in list(self.heard) if at >= since)

    def wait_for(self, needle: str, since: float, timeout: float) -> float | None:
        """Seconds after `since` at which `needle` arrived, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, chunk in list(self.heard):
                if at >= since and needle in chunk:
                    return at - since
            time.sleep(0.02)
        return None

    def close(self) -> None:
        self.response.close()


def test_a_stop_through_the_rest_api_reaches_the_streams(hub, make_user):
    user = make_user("standinreststop")
    ensure_running(user)
    streams = {"owner": Stream(user), "admin": Stream(Portal(hub, "admin"))}
    try:
        for stream in streams.values():
            assert stream.wait_for(": connected", 0.0, 10) is not None
        t0 = time.monotonic()
        r = hub.api("DELETE", f"users/{user.name}/server")
        assert r.status_code in (202, 204), r.text
        event = f"event: card-{user.name}"
        for who, stream in streams.items():
            after = stream.wait_for(event, t0, ARRIVES)
            assert after is not None, f"{who}'s stream heard nothing: {stream.text(t0)!r}"
        assert wait_state(user, user.name, {"stopped"}) == "stopped"
        # The end of the stop (the hub clears the server after the spawner returns) is pushed
        # too: a last event arrives once the card says "stopped".
        time.sleep(0.5)
        assert streams["owner"].text(t0).count(event) >= 2
        assert "users-changed" in streams["admin"].text(t0)
        assert "users-changed" not in streams["owner"].text(t0)
    finally:
        for stream in streams.values():
            stream.close()
    assert card_state(user.get(f"portal/users/{user_path(user.name)}/card").text) == "stopped"
