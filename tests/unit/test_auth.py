"""Pure logic of portal.auth: the name rule, the setup code, the throttle, client addresses,
and that bcrypt runs outside the event loop's thread."""

from __future__ import annotations

import asyncio
import stat
import threading
from types import SimpleNamespace

import bcrypt
import pytest

from portal.auth import authenticator as auth_module
from portal.auth.passwords import PasswordChecks
from portal.auth.setup_code import SetupCode
from portal.auth.throttle import SignInThrottle, address_key, client_address
from portal.platform.user_names import is_valid_username

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


@pytest.mark.parametrize("name", ["admin", "ann-marie", "j.doe_2", "zoë", "x" * 128, "émile@lab"])
def test_valid_names(name):
    assert is_valid_username(name)


@pytest.mark.parametrize("name", ["", "a b", "a\tb", "a\nb", "a\rb", "a\x00b", "a\x7fb", "a\x85b",
                                  "a\u200bb", "a\u2028b", "a\u00a0b", "a/b", "a&b", "a?b", "a#b",
                                  "a%b", "a,b", "x" * 129])
def test_refused_names(name):
    assert not is_valid_username(name)


def test_setup_code_is_private_matches_loosely_and_is_void_once_withdrawn(tmp_path):
    code = SetupCode(tmp_path / "setup-code")
    value = code.issue()
    assert stat.S_IMODE((tmp_path / "setup-code").stat().st_mode) == 0o600
    assert (tmp_path / "setup-code").read_text().strip() == value
    assert code.matches(value) and code.matches(value.lower().replace("-", " "))
    assert not code.matches("") and not code.matches(value[:-1])
    code.withdraw()
    assert not code.matches(value) and not (tmp_path / "setup-code").exists()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: SignInThrottle, address: str, times: int = 1) -> None:
    for _ in range(times):
        assert throttle.wait(address) == 0
        throttle.begin(address)
        throttle.end(address, success=False)


def test_throttle_slows_the_address_and_doubles_the_wait_up_to_the_limit():
    clock = Clock()
    t = SignInThrottle(free_failures=3, base_delay=2, max_delay=10, clock=clock)
    fail(t, "1.2.3.4", 2)
    assert t.wait("1.2.3.4") == 0
    fail(t, "1.2.3.4")
    assert t.wait("1.2.3.4") == 2
    assert t.wait("5.6.7.8") == 0  # another address is never slowed
    clock.now += 2
    fail(t, "1.2.3.4")
    assert t.wait("1.2.3.4") == 4
    for _ in range(5):
        clock.now += 10
        fail(t, "1.2.3.4")
    assert t.wait("1.2.3.4") == 10
    clock.now += 10
    t.begin("1.2.3.4")
    t.end("1.2.3.4", success=True)
    assert t.wait("1.2.3.4") == 0


def test_throttle_refuses_parallel_tries_and_forgets_old_addresses():
    clock = Clock()
    t = SignInThrottle(max_in_flight=2, max_addresses=3, forget_after=60, clock=clock)
    t.begin("a")
    t.begin("a")
    assert t.wait("a") > 0
    t.end("a", success=False)
    assert t.wait("a") == 0
    for address in "bcde":
        t.wait(address)
    assert len(t._records) == 3


def request(xff: str = "", peer: str = "127.0.0.1", local: str = "127.0.0.1"):
    sock = SimpleNamespace(getsockname=lambda: (local, 8081))
    connection = SimpleNamespace(context=SimpleNamespace(address=(peer, 5555)),
                                 stream=SimpleNamespace(socket=sock))
    headers = {"X-Forwarded-For": xff} if xff else {}
    return SimpleNamespace(connection=connection, headers=headers, remote_ip=peer)


def test_client_address_counts_trusted_hops_from_the_right():
    # The hub's own proxy appended the client; whatever the client wrote to the left is ignored.
    assert client_address(request("6.6.6.6, 203.0.113.9"), 0) == "203.0.113.9"
    # Behind Traefik: Traefik wrote the client, the hub's proxy wrote Traefik.
    assert client_address(request("6.6.6.6, 203.0.113.9, 198.51.100.2"), 1) == "203.0.113.9"
    # The hub's proxy on the container's own address (compose) is local too.
    assert client_address(request("203.0.113.9, 198.51.100.2", peer="198.51.100.5",
                                  local="198.51.100.5"), 1) == "203.0.113.9"
    # Someone reaching the hub's port directly is judged by its own address.
    assert client_address(request("1.1.1.1", peer="198.51.100.9", local="198.51.100.5"), 0) == \
        "198.51.100.9"
    assert client_address(request(""), 0) == "127.0.0.1"


def test_ipv6_clients_are_keyed_by_their_64():
    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2:ffff::1")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:198.51.100.1") == "198.51.100.1"


async def test_bcrypt_runs_outside_the_event_loop_thread(monkeypatch):
    loop_thread = threading.current_thread()
    threads = []

    def spy(real):
        def run(*args):
            threads.append(threading.current_thread())
            return real(*args)
        return run

    monkeypatch.setattr(bcrypt, "hashpw", spy(bcrypt.hashpw))
    monkeypatch.setattr(bcrypt, "checkpw", spy(bcrypt.checkpw))
    checks = PasswordChecks(SignInThrottle())
    me = SimpleNamespace(passwords=checks)
    hashed = await auth_module.DSHubAuthenticator.hash_password(me, "a password")
    assert await checks.check("1.2.3.4", "ann", "a password", hashed)
    assert not await checks.check("1.2.3.4", "ann", "wrong", hashed)
    assert not await checks.check("1.2.3.4", "ann", "wrong", None)
    assert threads and all(t is not loop_thread for t in threads)
    await asyncio.sleep(0)
