"""Owns the image health check: `python -m portal.platform.healthcheck`: 0 when the hub answers.

The image's and compose's health check. It asks through the public port (proxy and hub both
have to be up), on loopback or, in compose.yml's stack, on the edge network where that port
listens; over HTTPS when ENABLE_JUPYTERHUB_SSL=1 (the hub's own certificate is self-signed or
issued for the public name, so it is not verified).
"""

from __future__ import annotations

import argparse
import socket
import ssl
import sys
import urllib.error
import urllib.request

from .settings import SettingsError, load_settings

# compose.yml's name for the hub on Traefik's network; its public port listens there only.
EDGE_ALIAS = "jupyterhub-edge"


def edge_address() -> str | None:
    """The hub's address on the edge network, when it runs on one."""
    try:
        return socket.gethostbyname(EDGE_ALIAS)
    except OSError:
        return None


def health_url(port: int = 8000, host: str | None = None) -> str:
    host = host or edge_address() or "127.0.0.1"
    settings = load_settings()
    scheme = "https" if settings.ssl else "http"
    return f"{scheme}://{host}:{port}{settings.base_url}hub/health"


def check(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """(healthy, what happened) for one GET of `url`."""
    context = ssl._create_unverified_context() if url.startswith("https:") else None  # noqa: S323
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:  # noqa: S310
            return response.status == 200, f"{url}: HTTP {response.status}"
    except urllib.error.HTTPError as e:
        return False, f"{url}: HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        return False, f"{url}: {getattr(e, 'reason', None) or e}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.platform.healthcheck",
                                     description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="the hub's public port")
    parser.add_argument("--url", help="check this URL instead")
    args = parser.parse_args(argv)
    try:
        url = args.url or health_url(args.port)
    except SettingsError as e:
        print(f"unhealthy: {e}", file=sys.stderr)
        return 1
    healthy, detail = check(url)
    print(("healthy: " if healthy else "unhealthy: ") + detail)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
