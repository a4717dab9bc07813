"""The hub's proxy on a busy host: configurable-http-proxy itself, started the way the hub
starts it, answering only after JupyterHub's fixed 10 s (a loaded CI machine took 11 s, and the
production image's hub exited). No hub and no Docker: the proxy class alone, on loopback.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from jupyterhub.proxy import ConfigurableHTTPProxy

from portal.platform.patient_proxy import PatientProxy
from tests.support.hub import ROOT, free_port

PROXY = ROOT / ".dev" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
SLOWER_THAN_UPSTREAM = 11  # seconds before the real proxy is even started


def _proxy(cls: type[ConfigurableHTTPProxy], tmp_path: Path, *, delay: float,
           start_wait: float = 120.0) -> ConfigurableHTTPProxy:
    assert PROXY.exists(), f"{PROXY} is missing: run scripts/setup.sh"
    tmp_path.mkdir(exist_ok=True)
    # JupyterHub appends its arguments to the command: "$@" hands them to the real proxy.
    command = ["sh", "-c", f'sleep {delay}; exec "$0" "$@"', str(PROXY)]
    extra = {"start_wait": start_wait} if cls is PatientProxy else {}
    return cls(
        command=command,
        public_url=f"http://127.0.0.1:{free_port()}/",
        api_url=f"http://127.0.0.1:{free_port()}",
        auth_token="proxy-test-token",
        pid_file=str(tmp_path / "proxy.pid"),
        app=SimpleNamespace(subdomain_host="", internal_ssl=False),
        hub=SimpleNamespace(url="http://127.0.0.1:9/hub/"),
        **extra,
    )


async def _start_and_list_routes(proxy: ConfigurableHTTPProxy) -> dict:
    try:
        await proxy.start()
        return await proxy.get_all_routes()
    finally:
        if proxy.proxy_process is not None:
            proxy.stop()


def test_a_slow_proxy_is_waited_for_where_upstream_gives_up(tmp_path):
    """Side by side (one wait for all three): JupyterHub's own class stops waiting at 10 s, the
    portal's waits and then watches the process, and gives up at `start_wait` on a proxy that
    runs but never answers."""
    upstream = _proxy(ConfigurableHTTPProxy, tmp_path / "upstream", delay=SLOWER_THAN_UPSTREAM)
    patient = _proxy(PatientProxy, tmp_path / "patient", delay=SLOWER_THAN_UPSTREAM)
    silent = _proxy(PatientProxy, tmp_path / "silent", delay=0, start_wait=12)
    silent.command = ["sh", "-c", "exec sleep 60"]  # runs, never listens; stop() ends it

    async def all_three() -> list:
        return await asyncio.gather(*(_start_and_list_routes(proxy)
                                      for proxy in (upstream, patient, silent)),
                                    return_exceptions=True)

    gave_up, routes, never = asyncio.run(all_three())
    assert isinstance(gave_up, TimeoutError), gave_up
    assert routes == {}  # the API answered with the token: the proxy really serves
    assert patient._check_running_callback is not None  # as upstream: a dead proxy is restarted
    assert isinstance(never, TimeoutError), never


def test_a_proxy_that_exits_is_an_error_at_once(tmp_path):
    proxy = _proxy(PatientProxy, tmp_path, delay=0)
    proxy.command = ["sh", "-c", "exit 3"]
    with pytest.raises(RuntimeError, match="exit code 3"):
        asyncio.run(_start_and_list_routes(proxy))
