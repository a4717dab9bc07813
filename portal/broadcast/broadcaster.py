"""Owns sending a broadcast into running JupyterLabs: credentials, delivery, results (no HTML).

One POST from the hub to each recipient's server at
`<server url>/jupyterlab-notifications-extension/ingest`, authenticated with a token that opens
only that server (portal/broadcast/tokens.py). Sends run concurrently with a bound, on a client
of their own (never queued behind, or in front of, the hub's own proxy calls), and every one
ends by the same deadline, `timeout` after the send began: a dead lab delays nothing beyond it,
however late in the list it comes. A server reached late still gets `MIN_SHARE` of it. Every
broadcast is saved in the portal's store with its per-server results.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from jupyterhub import orm
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..audit.log import AuditLog, EventKind
from ..platform import metrics
from ..platform.logs import portal_logger
from ..platform.pacing import Pacer
from ..platform.startup import when_hub_runs
from ..store.database import PortalStore
from .message import BroadcastRequest
from .results import UNREACHABLE, Delivery, Outcome, classify
from .targets import NOT_RUNNING, Target
from .tokens import LabTokens

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

DEFAULT_TIMEOUT = 5.0  # seconds: every server's answer is due by then (from the send's start)
MIN_SHARE = 0.2  # of the timeout, any server gets, even when starting every request took longer
# Requests in flight at once. A server that never answers holds its slot for the whole timeout,
# so the slots must outnumber the dead servers a large team can have (benchmarks: 1,000 labs,
# 10% silent, on two shared cores).
DEFAULT_CONCURRENCY = 128
# Requests start at least this far apart, across concurrent broadcasts
# (portal/platform/pacing.py): 1,000 recipients all started within a quarter of a second, and
# never 128 in one turn of the event loop, which held every page and health check for 50-150 ms.
START_GAP = 0.00025  # seconds


class Broadcaster:
    """Holds the hub credential and sends broadcasts; one per hub process."""

    def __init__(self, token: str, store: PortalStore, audit: AuditLog | None = None,
                 timeout: float = DEFAULT_TIMEOUT, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.token = token
        self.store = store
        self.audit = audit
        self.timeout = timeout
        self.concurrency = concurrency
        self.tokens = LabTokens(SERVICE_NAME)
        self.pacer = Pacer(START_GAP)

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

    async def credentials(self, db: Any, targets: list[Target]) -> Callable[[str], str]:
        """Per-recipient tokens: each server gets one that opens only that server.

        A user controls the code of their own lab, so whatever their server receives must be
        worthless elsewhere: a token scoped to `access:servers!server=<user>/<server>` (that
        server only, a named server's too), expiring within
        minutes. Never the service's own token, which opens every lab. Minted together, off the
        event loop, and reused by broadcasts that follow soon (portal/broadcast/tokens.py).
        """
        labs = [t.lab for t in targets if t.url is not None]
        tokens = await self.tokens.for_labs(db, labs) if labs else {}
        return tokens.__getitem__

    async def send(self, sender: str, request: BroadcastRequest, targets: list[Target],
                   credential: Callable[[str], str]) -> Outcome:
        """Deliver to every target concurrently, then save the broadcast with its results.

        `credential(lab)` gives the token to present to that server (`credentials()`).
        """
        started = time.monotonic()
        body = json.dumps(request.payload())
        results = await self._deliver_all([(target, body) for target in targets], credential)
        outcome = Outcome(id=None, results=results, seconds=time.monotonic() - started)
        try:
            outcome.id = await self.store.add_broadcast(
                sender, request.message, request.type, request.auto_close,
                request.recipients.record(), [r.as_json() for r in outcome.results],
            )
        except Exception:  # the messages are out; say so instead of failing the whole send
            log.exception("Could not save the broadcast by %s", sender)
            outcome.saved = False
        summary = (f"{request.type}: {outcome.targeted} targeted, {outcome.delivered} delivered, "
                   f"{outcome.failed} failed in {outcome.seconds:.2f} s")
        log.info("Broadcast by %s (%s)", sender, summary)
        metrics.BROADCASTS.inc()
        metrics.BROADCAST_DELIVERIES.labels("delivered").inc(outcome.delivered)
        metrics.BROADCAST_DELIVERIES.labels("failed").inc(outcome.failed)
        if self.audit is not None:
            recipients = request.recipients
            target = "all" if recipients.mode == "all" else f"{recipients.mode}: " + ", ".join(
                recipients.names)
            await self.audit.record(sender, EventKind.BROADCAST, target, summary,
                                    ok=outcome.failed == 0)
        return outcome

    async def notify(self, target: Target, payload: dict[str, Any],
                     credential: Callable[[str], str]) -> Delivery:
        """One notification to one lab (the idle warning), without the broadcast history."""
        client = AsyncHTTPClient(force_instance=True, max_clients=2)
        try:
            return await self._deliver(client, target, json.dumps(payload), credential,
                                       time.monotonic() + self.timeout)
        finally:
            client.close()

    async def notify_each(self, messages: list[tuple[Target, dict[str, Any]]],
                          credential: Callable[[str], str]) -> list[Delivery]:
        """A notification of its own to each lab (a culling pass's warnings), sent like a
        broadcast (bounded, paced, one deadline), without the broadcast history."""
        return await self._deliver_all([(t, json.dumps(p)) for t, p in messages], credential)

    async def _deliver_all(self, messages: list[tuple[Target, str]],
                           credential: Callable[[str], str]) -> list[Delivery]:
        """Each (target, body) delivered, at most `concurrency` at once, all by one deadline."""
        deadline = time.monotonic() + self.timeout
        # A client of our own: the hub's shared one queues its proxy calls behind ours.
        client = AsyncHTTPClient(force_instance=True, max_clients=self.concurrency)
        results: list[Delivery] = [None] * len(messages)  # type: ignore[list-item]
        # A fixed pool of workers sharing one iterator: at most `concurrency` requests exist at
        # a time, instead of a task and a request object per recipient up front (GC pauses).
        pending = iter(enumerate(messages))

        async def worker() -> None:
            for index, (target, body) in pending:
                if target.url is not None:
                    await self.pacer.turn()
                results[index] = await self._deliver(client, target, body, credential,
                                                     deadline)

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.concurrency,
                                                               len(messages)))))
        finally:
            client.close()
        return results

    async def _deliver(self, client: AsyncHTTPClient, target: Target, body: str,
                       credential: Callable[[str], str], deadline: float) -> Delivery:
        if target.url is None:
            return Delivery(target.user, False, target.reason or NOT_RUNNING,
                            server=target.server)
        wait = max(deadline - time.monotonic(), MIN_SHARE * self.timeout)
        request = HTTPRequest(
            target.url, method="POST", body=body, follow_redirects=False,
            headers={"Authorization": f"token {credential(target.lab)}",
                     "Content-Type": "application/json"},
            connect_timeout=wait, request_timeout=wait,
        )
        try:
            # The outer bound is a guard: tornado's own timeouts should fire first.
            async with asyncio.timeout(wait + 1):
                response = await client.fetch(request, raise_error=False)
        except HTTPClientError as e:
            return Delivery(target.user, False, UNREACHABLE if e.code == 599 else
                            classify(e.code)[1], e.code, target.server)
        except (OSError, TimeoutError) as e:
            log.info("Broadcast to %s: %s", target.lab, e)
            return Delivery(target.user, False, UNREACHABLE, server=target.server)
        ok, reason = classify(response.code, response.body or b"")
        if not ok:
            log.info("Broadcast to %s: %s (%s)", target.lab, reason, response.code)
        return Delivery(target.user, ok, reason, None if response.code == 599 else response.code,
                        target.server)


def new_broadcaster(store: PortalStore, audit: AuditLog) -> Broadcaster:
    """The hub process's sender, with a credential of its own (given to the hub by `register`)."""
    return Broadcaster(secrets.token_hex(32), store, audit)


def register(c: Any, broadcaster: Broadcaster) -> None:
    """Give the hub the broadcaster's credential: a service with `access:servers`.

    Appends (never assigns) so other configuration of services, roles and scopes stays.
    """
    c.JupyterHub.custom_scopes.update(CUSTOM_SCOPES)
    c.JupyterHub.services.append({"name": SERVICE_NAME, "api_token": broadcaster.token})
    c.JupyterHub.load_roles.append({
        "name": SERVICE_NAME,
        "description": "The portal's broadcast sender: reaches every user's server.",
        "scopes": ["access:servers"],
        "services": [SERVICE_NAME],
    })

    async def forget_old_tokens(app: Any) -> None:
        broadcaster.forget_old_tokens(app.db)

    when_hub_runs(forget_old_tokens, "removal of old broadcast tokens")
