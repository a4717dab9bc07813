"""Admin notification broadcast into running JupyterLabs (service layer: no HTML).

One POST from the hub to each recipient's server at
`<server url>/jupyterlab-notifications-extension/ingest`, authenticated with ONE hub credential:
the `dshub-portal` service, registered by `register(c)` with a token generated at every start
and a role granting `access:servers`. Sends run concurrently with a bound and a per-server
timeout on a client of their own, so a dead or slow lab delays nothing beyond its timeout and
never queues behind (or in front of) the hub's own proxy calls. Every broadcast is saved in the
portal's store with its per-server results.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import regex
from jupyterhub import orm
from jupyterhub.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .logs import portal_logger
from .startup import when_hub_runs
from .store import PortalStore

log = portal_logger()

SERVICE_NAME = "dshub-portal"
# A dedicated scope lets a script or a team broadcast without full admin rights; every admin
# already holds admin:servers (the built-in admin role cannot be extended in JupyterHub 5).
BROADCAST_SCOPE = "custom:dshub:broadcast"
CUSTOM_SCOPES = {
    BROADCAST_SCOPE: {
        "description": "Send notifications into every user's JupyterLab through the DS Hub portal.",
    },
}
SENDER_SCOPES = (BROADCAST_SCOPE, "admin:servers")

INGEST_PATH = "jupyterlab-notifications-extension/ingest"
TYPES = ("default", "info", "success", "warning", "error", "in-progress")
MAX_GRAPHEMES = 140
AUTO_CLOSE_RANGE = (1, 600)  # seconds
DEFAULT_AUTO_CLOSE = 5  # seconds, the extension's own default
DEFAULT_TIMEOUT = 5.0  # seconds per server
TOKEN_LIFETIME = 60  # seconds a per-server broadcast token stays valid
# Requests in flight at once. A server that never answers holds its slot for the whole timeout,
# so the slots must outnumber the dead servers a large team can have (benchmarks: 1,000 labs,
# 10% silent, done in timeout + 0.6 s with 128).
DEFAULT_CONCURRENCY = 128
MAX_RECIPIENT_NAMES = 1000

# Reasons in plain words, shown to admins and kept in the history.
DELIVERED = "delivered"
NOT_RUNNING = "not running"
NOT_INSTALLED = "extension not installed"
UNREACHABLE = "unreachable or timed out"

_GRAPHEME = regex.compile(r"\X")
# Control characters other than newline and tab are never part of a message a person typed.
_CONTROL = regex.compile(r"[\p{Cc}--[\n\t]]", regex.V1)


class BroadcastRefused(Exception):
    """Bad input: nothing is sent. `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def grapheme_count(text: str) -> int:
    """Characters as a person counts them: extended grapheme clusters (an emoji is one)."""
    return len(_GRAPHEME.findall(text))


def clean_message(raw: Any) -> str:
    if not isinstance(raw, str):
        raise BroadcastRefused("The message must be text.")
    message = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not message:
        raise BroadcastRefused("Write a message: it cannot be empty or only spaces.")
    if _CONTROL.search(message):
        raise BroadcastRefused("The message contains control characters; use plain text.")
    count = grapheme_count(message)
    if count > MAX_GRAPHEMES:
        raise BroadcastRefused(
            f"The message has {count} characters; at most {MAX_GRAPHEMES} are allowed."
        )
    return message


def check_type(raw: Any) -> str:
    if raw not in TYPES:
        shown = repr(raw)[:40] if isinstance(raw, str) else type(raw).__name__
        raise BroadcastRefused(f"Unknown type {shown}: choose one of {', '.join(TYPES)}.")
    return raw


def check_auto_close(raw: Any) -> int | None:
    """Seconds until the notification closes itself; None: it stays until dismissed."""
    low, high = AUTO_CLOSE_RANGE
    problem = f"Auto-close must be never or a whole number of seconds from {low} to {high}."
    if raw is None or raw is False:
        return None
    if isinstance(raw, bool):
        raise BroadcastRefused(problem)
    if isinstance(raw, str):
        raw = raw.strip()
        if raw.lower() == "never":
            return None
        if not raw.isascii() or not raw.isdigit():
            raise BroadcastRefused(problem)
        raw = int(raw)
    if not isinstance(raw, int) or not low <= raw <= high:
        raise BroadcastRefused(problem)
    return raw


@dataclass(frozen=True)
class Recipients:
    mode: str = "all"  # all | users | groups
    names: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """How the store keeps it: {"all": true}, {"users": [...]} or {"groups": [...]}."""
        return {"all": True} if self.mode == "all" else {self.mode: list(self.names)}


def check_recipients(mode: Any, names: Iterable[Any] = ()) -> Recipients:
    if mode in (None, "", "all"):
        return Recipients()
    if mode not in ("users", "groups"):
        raise BroadcastRefused("Recipients must be all active servers, chosen users or groups.")
    wanted = [n.strip() for n in names if isinstance(n, str) and n.strip()]
    if not wanted:
        raise BroadcastRefused(f"Choose at least one {'user' if mode == 'users' else 'group'}.")
    if len(wanted) > MAX_RECIPIENT_NAMES:
        raise BroadcastRefused(f"At most {MAX_RECIPIENT_NAMES} names per broadcast.")
    return Recipients(mode, tuple(sorted(set(wanted))))


@dataclass(frozen=True)
class BroadcastRequest:
    message: str
    type: str
    auto_close: int | None  # seconds; None: never
    recipients: Recipients

    def payload(self) -> dict[str, Any]:
        """The extension's ingest body (HARNESS.md section 6)."""
        return {
            "message": self.message,
            "type": self.type,
            "autoClose": False if self.auto_close is None else self.auto_close * 1000,
            # Pushed at once to open lab tabs; otherwise queued until the lab next polls.
            "immediate": True,
        }


def validate(message: Any, type_: Any = "info", auto_close: Any = DEFAULT_AUTO_CLOSE,
             recipients: Recipients | None = None) -> BroadcastRequest:
    """Every check before anything is sent; raises BroadcastRefused with a readable message."""
    return BroadcastRequest(
        message=clean_message(message),
        type=check_type(type_),
        auto_close=check_auto_close(auto_close),
        recipients=recipients or Recipients(),
    )


# --- recipients -> servers ------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    user: str
    url: str | None  # ingest URL; None when there is no running server
    reason: str = ""  # why there is no URL


def target_of(user: Any) -> Target:
    """The user's default server as the hub (and its proxy) reach it, or why there is none."""
    spawner = user.spawner
    if spawner.pending == "spawn":
        return Target(user.name, None, f"{NOT_RUNNING} (still starting)")
    if spawner.pending == "stop":
        return Target(user.name, None, f"{NOT_RUNNING} (stopping)")
    if not spawner.ready or spawner.server is None:
        return Target(user.name, None, NOT_RUNNING)
    return Target(user.name, url_path_join(spawner.server.url, INGEST_PATH))


def resolve_targets(recipients: Recipients, db: Any, users: Mapping[Any, Any]) -> list[Target]:
    """Recipients -> one target per user, sorted by name. Unknown names are refused.

    `users` is the hub's UserDict (`users[orm_user]` gives the hub's User with its spawner).
    """
    if recipients.mode == "all":
        # Every default server the hub has a running (or still starting) server record for.
        query = db.query(orm.Spawner).filter(
            orm.Spawner.server_id.isnot(None), orm.Spawner.name == ""
        )
        chosen = {s.user.name: users[s.user] for s in query if s.user is not None}
    elif recipients.mode == "users":
        found = {n: orm.User.find(db, n) for n in recipients.names}
        missing = [n for n, u in found.items() if u is None]
        if missing:
            raise BroadcastRefused(f"No such user: {', '.join(missing[:10])}.")
        chosen = {n: users[u] for n, u in found.items()}
    else:
        groups = {n: orm.Group.find(db, n) for n in recipients.names}
        missing = [n for n, g in groups.items() if g is None]
        if missing:
            raise BroadcastRefused(f"No such group: {', '.join(missing[:10])}.")
        chosen = {u.name: users[u] for g in groups.values() for u in g.users}
    return [target_of(chosen[name]) for name in sorted(chosen)]


# --- sending --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    user: str
    ok: bool
    reason: str
    code: int | None = None  # HTTP status from the lab, when it answered


@dataclass
class Outcome:
    id: int | None
    results: list[Delivery] = field(default_factory=list)
    seconds: float = 0.0
    saved: bool = True

    @property
    def targeted(self) -> int:
        return len(self.results)

    @property
    def delivered(self) -> int:
        return sum(1 for r in self.results if r.ok)

    @property
    def failed(self) -> int:
        return self.targeted - self.delivered

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "targeted": self.targeted, "delivered": self.delivered,
            "failed": self.failed, "seconds": round(self.seconds, 3), "saved": self.saved,
            "results": [asdict(r) for r in self.results],
        }


def _lab_error(body: bytes) -> str:
    try:
        error = json.loads(body).get("error") or json.loads(body).get("message")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    return str(error)[:200] if error else ""


def classify(code: int, body: bytes = b"") -> tuple[bool, str]:
    """An HTTP answer from a lab -> (delivered?, reason in plain words)."""
    if code == 200:
        try:
            if json.loads(body).get("success") is True:
                return True, DELIVERED
        except (ValueError, AttributeError, UnicodeDecodeError):
            pass
        return False, "refused (unexpected answer from the server)"
    if code == 404:
        return False, NOT_INSTALLED
    if code == 599:
        return False, UNREACHABLE
    if 400 <= code < 500:
        detail = _lab_error(body)
        return False, f"refused (HTTP {code}{': ' + detail if detail else ''})"
    if 300 <= code < 400:
        return False, f"refused (HTTP {code}: redirected, the credential was not accepted)"
    return False, f"server error (HTTP {code})"


class Broadcaster:
    """Holds the hub credential and sends broadcasts; one per hub process."""

    def __init__(self, token: str, store: PortalStore, timeout: float = DEFAULT_TIMEOUT,
                 concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.token = token
        self.store = store
        self.timeout = timeout
        self.concurrency = concurrency

    def forget_old_tokens(self, db: Any) -> int:
        """Delete this service's tokens from earlier starts: only the current one may work.

        JupyterHub keeps every config token it was ever given; ours changes at every start.
        """
        service = orm.Service.find(db, SERVICE_NAME)
        current = orm.APIToken.find(db, self.token, kind="service")
        if service is None or current is None:
            return 0  # not registered: nothing to compare with
        stale = [t for t in service.api_tokens if t.id != current.id]
        for token in stale:
            db.delete(token)
        db.commit()
        if stale:
            log.info("Removed %d token(s) of %s from earlier starts", len(stale), SERVICE_NAME)
        return len(stale)

    def credentials(self, db: Any) -> Callable[[str], str]:
        """Per-recipient tokens: each server gets one that opens only that server.

        A user controls the code of their own lab, so whatever their server receives must be
        worthless elsewhere: a token scoped to `access:servers!server=<user>/`, expiring in a
        minute. Never the service's own token, which opens every lab.
        """
        service = orm.Service.find(db, SERVICE_NAME)
        if service is None:
            raise RuntimeError(f"the {SERVICE_NAME} service is not registered")

        def mint(user: str) -> str:
            return service.new_api_token(
                scopes=[f"access:servers!server={user}/"], expires_in=TOKEN_LIFETIME,
                note="portal broadcast (one server)",
            )

        return mint

    async def send(self, sender: str, request: BroadcastRequest, targets: list[Target],
                   credential: Callable[[str], str]) -> Outcome:
        """Deliver to every target concurrently, then save the broadcast with its results.

        `credential(user)` gives the token to present to that user's server (`credentials()`).
        """
        started = time.monotonic()
        body = json.dumps(request.payload())
        # A client of our own: the hub's shared one queues its proxy calls behind ours.
        client = AsyncHTTPClient(force_instance=True, max_clients=self.concurrency)
        results: list[Delivery] = [None] * len(targets)  # type: ignore[list-item]
        # A fixed pool of workers sharing one iterator: at most `concurrency` requests exist at
        # a time, instead of a task and a request object per recipient up front (GC pauses).
        pending = iter(enumerate(targets))

        async def worker() -> None:
            for index, target in pending:
                results[index] = await self._deliver(client, target, body, credential)

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(targets)))))
        finally:
            client.close()
        outcome = Outcome(id=None, results=list(results), seconds=time.monotonic() - started)
        try:
            outcome.id = await self.store.add_broadcast(
                sender, request.message, request.type, request.auto_close,
                request.recipients.record(), [asdict(r) for r in outcome.results],
            )
        except Exception:  # the messages are out; say so instead of failing the whole send
            log.exception("Could not save the broadcast by %s", sender)
            outcome.saved = False
        log.info(
            "Broadcast by %s (%s): %d targeted, %d delivered, %d failed in %.2f s",
            sender, request.type, outcome.targeted, outcome.delivered, outcome.failed,
            outcome.seconds,
        )
        return outcome

    async def _deliver(self, client: AsyncHTTPClient, target: Target, body: str,
                       credential: Callable[[str], str]) -> Delivery:
        if target.url is None:
            return Delivery(target.user, False, target.reason or NOT_RUNNING)
        request = HTTPRequest(
            target.url, method="POST", body=body, follow_redirects=False,
            headers={"Authorization": f"token {credential(target.user)}",
                     "Content-Type": "application/json"},
            connect_timeout=self.timeout, request_timeout=self.timeout,
        )
        try:
            # The outer bound is a guard: tornado's own timeouts should fire first.
            async with asyncio.timeout(self.timeout + 1):
                response = await client.fetch(request, raise_error=False)
        except HTTPClientError as e:
            return Delivery(target.user, False, UNREACHABLE if e.code == 599 else
                            classify(e.code)[1], e.code)
        except (OSError, TimeoutError) as e:
            log.info("Broadcast to %s: %s", target.user, e)
            return Delivery(target.user, False, UNREACHABLE)
        ok, reason = classify(response.code, response.body or b"")
        if not ok:
            log.info("Broadcast to %s: %s (%s)", target.user, reason, response.code)
        return Delivery(target.user, ok, reason, None if response.code == 599 else response.code)


def register(c: Any, store: PortalStore) -> Broadcaster:
    """Give the hub one credential for broadcasts: a service with `access:servers`.

    Appends (never assigns) so other configuration of services, roles and scopes stays.
    """
    token = secrets.token_hex(32)
    c.JupyterHub.custom_scopes.update(CUSTOM_SCOPES)
    c.JupyterHub.services.append({"name": SERVICE_NAME, "api_token": token})
    c.JupyterHub.load_roles.append({
        "name": SERVICE_NAME,
        "description": "The portal's broadcast sender: reaches every user's server.",
        "scopes": ["access:servers"],
        "services": [SERVICE_NAME],
    })
    broadcaster = Broadcaster(token, store)

    async def forget_old_tokens(app: Any) -> None:
        broadcaster.forget_old_tokens(app.db)

    when_hub_runs(forget_old_tokens, "removal of old broadcast tokens")
    return broadcaster
