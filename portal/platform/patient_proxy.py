"""Owns the hub's proxy class: configurable-http-proxy, given time to come up on a busy host.

JupyterHub starts configurable-http-proxy and gives its two endpoints a fixed 10 s to answer;
past that the hub exits. Node's first start on a loaded host (a CI machine, a server restarted
with many labs, a cold disk) can take longer: seen at 11 s, and the hub container then died
instead of serving. Here a slow proxy that is still running gets `start_wait` seconds in all.
A proxy that exits is still an error at once, as upstream.
"""

from __future__ import annotations

import asyncio

from jupyterhub.objects import Server
from jupyterhub.proxy import ConfigurableHTTPProxy
from tornado.ioloop import PeriodicCallback
from traitlets import Float


class PatientProxy(ConfigurableHTTPProxy):
    """configurable-http-proxy, with a start-up wait that can be configured."""

    start_wait = Float(
        120.0,
        config=True,
        help="Seconds the hub waits for the proxy's endpoints to answer at start (upstream: 10).",
    )

    async def start(self) -> None:
        started = asyncio.get_running_loop().time()
        try:
            await super().start()
            return
        except TimeoutError:
            if self.proxy_process is None or self.proxy_process.poll() is not None:
                raise  # the proxy is gone: waiting longer would not help
        left = self.start_wait - (asyncio.get_running_loop().time() - started)
        self.log.warning("The proxy did not answer within JupyterHub's 10 s; waiting %.0f s more",
                         max(left, 0))
        await self._wait_for_endpoints(max(left, 1.0))
        self.log.info("Proxy answered after %.1f s",
                      asyncio.get_running_loop().time() - started)
        # What upstream's start does once the endpoints answer: watch the process from now on.
        self._check_running_callback = PeriodicCallback(
            self.check_running, 1e3 * self.check_running_interval)
        self._check_running_callback.start()

    async def _wait_for_endpoints(self, seconds: float) -> None:
        endpoints = [Server.from_url(self.public_url), Server.from_url(self.api_url)]
        waits = asyncio.gather(*(server.wait_up(seconds) for server in endpoints))
        exited = asyncio.ensure_future(self._process_exit())
        try:
            done, _ = await asyncio.wait([waits, exited], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waits, exited):
                task.cancel()
        await done.pop()  # raises the endpoints' TimeoutError or the exit's RuntimeError

    async def _process_exit(self) -> None:
        # A Popen has no awaitable exit: polled, as upstream does.
        while (status := self.proxy_process.poll()) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        raise RuntimeError(f"Proxy failed to start with exit code {status}")
