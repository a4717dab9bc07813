"""ENABLE_JUPYTERHUB_SSL and JUPYTERHUB_CUSTOM_LOGO_URI on a real hub process (no containers).

Each test starts its own hub with the variables under test; the hub's public port, the page a
browser gets and the bytes served at {base_url}hub/logo are checked, not the configuration.
"""

from __future__ import annotations

import base64
import http.server
import re
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from cryptography import x509

from portal.platform.branding import sanitise_svg
from portal.platform.tls import generate_self_signed
from tests.support.clients import Portal, signup
from tests.support.hub import Hub
from tests.unit.test_branding_tls import UNUSABLE_LOGOS

pytestmark = pytest.mark.hub

STOCK_LOGO = Path(
    __import__("jupyterhub._data", fromlist=["DATA_FILES_PATH"]).DATA_FILES_PATH,
    "static", "images", "jupyterhub-80.png",
).read_bytes()


def png(rgb: tuple[int, int, int]) -> bytes:
    """A valid 1x1 PNG of one colour: distinct bytes for each form of logo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"\x00" + bytes(rgb)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="20"><rect width="80" ' \
      b'height="20" fill="teal"/></svg>'


@contextmanager
def running_hub(tmp_path: Path, env: dict[str, str], data_dir: Path | None = None) -> Iterator[Hub]:
    hub = Hub(data_dir or tmp_path / "hub", env=env)
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def served_logo(hub: Hub, **kw) -> requests.Response:
    """The login page shows {base_url}hub/logo; return what that URL serves."""
    page = requests.get(hub.hub_url("login"), timeout=10, **kw)
    assert page.status_code == 200
    assert "hub/logo'" in page.text or 'hub/logo"' in page.text, "login page has no logo"
    logo = requests.get(hub.hub_url("logo"), timeout=10, **kw)
    assert logo.status_code == 200
    return logo


def hub_log(hub: Hub) -> str:
    return hub.log_path.read_text(errors="replace")


# --- custom logo: every accepted form ------------------------------------------------------


def test_file_logo_replaces_the_stock_logo(tmp_path):
    logo = png((200, 30, 30))
    path = tmp_path / "brand dir" / "logo.png"  # a space: the URI is percent-encoded
    path.parent.mkdir()
    path.write_bytes(logo)
    with running_hub(tmp_path, {"JUPYTERHUB_CUSTOM_LOGO_URI": path.as_uri()}) as hub:
        r = served_logo(hub)
        assert r.content == logo
        assert r.headers["Content-Type"] == "image/png"
        # Every page shows the same URL: the portal's pages too.
        assert signup(hub, "admin").status_code == 200
        page = Portal(hub, "admin").get("portal", htmx=False)
        # JupyterHub 5.5 quotes the attributes with ', 6.x with ".
        assert page.status_code == 200 and re.search(r"class=['\"]jpy-logo['\"]", page.text)
        assert re.search(r"hub/logo['\"]", page.text)


def test_data_uri_logo_replaces_the_stock_logo(tmp_path):
    logo = png((30, 200, 30))
    uri = "data:image/png;base64," + base64.b64encode(logo).decode()
    with running_hub(tmp_path, {"JUPYTERHUB_CUSTOM_LOGO_URI": uri}) as hub:
        assert served_logo(hub).content == logo


class LogoServer:
    """An HTTPS server on loopback serving /brand/logo.svg, trusted through `ca`."""

    def __init__(self, url: str, ca: Path, server: http.server.HTTPServer) -> None:
        self.url, self.ca, self._server = url, ca, server

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def https_logo_server(tmp_path) -> Iterator[LogoServer]:
    cert_pem, key_pem = generate_self_signed(["127.0.0.1", "localhost"])
    cert, key = tmp_path / "logo-server.crt", tmp_path / "logo-server.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path != "/brand/logo.svg":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/svg+xml")
            self.send_header("Content-Length", str(len(SVG)))
            self.end_headers()
            self.wfile.write(SVG)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handle = LogoServer(f"https://127.0.0.1:{server.server_address[1]}/brand/logo.svg", cert,
                        server)
    try:
        yield handle
    finally:
        if thread.is_alive():
            handle.stop()


def test_https_logo_is_downloaded_and_kept_when_its_host_is_down(tmp_path, https_logo_server):
    server = https_logo_server
    # The hub verifies the logo host's certificate: trust the test server's for this hub only.
    env = {"JUPYTERHUB_CUSTOM_LOGO_URI": server.url, "SSL_CERT_FILE": str(server.ca),
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    data_dir = tmp_path / "hub"
    with running_hub(tmp_path, env, data_dir) as hub:
        r = served_logo(hub)
        assert r.content == sanitise_svg(SVG)  # rebuilt from the allow-list
        assert b'<rect width="80" height="20" fill="teal"/>' in r.content
        assert r.headers["Content-Type"] == "image/svg+xml"
    server.stop()
    # The logo host is down at the next start: the copy downloaded from the same URL stays.
    with running_hub(tmp_path, env, data_dir) as hub:
        assert served_logo(hub).content == sanitise_svg(SVG)
        assert "using the copy saved at an earlier start" in hub_log(hub)
    # The copy belongs to that URL only: another unreachable URL gets the stock logo.
    other = {**env, "JUPYTERHUB_CUSTOM_LOGO_URI": server.url.replace("logo.svg", "new.svg")}
    with running_hub(tmp_path, other, data_dir) as hub:
        assert served_logo(hub).content == STOCK_LOGO
        assert "downloading it failed" in hub_log(hub).split("keeping the stock logo")[0]


# --- custom logo: unusable values keep the stock logo and say why ---------------------------


# Every unusable form is checked against configure_logo in tests/unit/test_branding_tls.py;
# a real hub start costs seconds, so only two are made here: a file that is not there, and the
# SVG attack (an entity that would smuggle markup in).
@pytest.mark.parametrize(("make_uri", "reason"), [UNUSABLE_LOGOS[0], UNUSABLE_LOGOS[-1]],
                         ids=["missing-file", "svg-entities"])
def test_unusable_logo_keeps_the_stock_logo_with_a_clear_log_line(tmp_path, make_uri, reason):
    uri = make_uri(tmp_path)
    with running_hub(tmp_path, {"JUPYTERHUB_CUSTOM_LOGO_URI": uri}) as hub:
        assert served_logo(hub).content == STOCK_LOGO
        lines = [line for line in hub_log(hub).splitlines()
                 if "JUPYTERHUB_CUSTOM_LOGO_URI=" in line and "keeping the stock logo" in line]
    assert len(lines) == 1, hub_log(hub)[-3000:]
    assert reason in lines[0]
    assert lines[0].startswith("[E ")


# --- ENABLE_JUPYTERHUB_SSL ------------------------------------------------------------------


def served_certificate(hub: Hub) -> x509.Certificate:
    with socket.create_connection(("127.0.0.1", hub.ports["proxy"]), timeout=10) as raw:
        context = ssl._create_unverified_context()  # only to read what is presented
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def test_ssl_hub_serves_https_with_its_generated_certificate(tmp_path):
    env = {"ENABLE_JUPYTERHUB_SSL": "1", "JUPYTERHUB_HOST": "hub.example.test"}
    data_dir = tmp_path / "hub"
    with running_hub(tmp_path, env, data_dir) as hub:
        assert hub.url.startswith("https://")
        cert_file = data_dir / "certs" / "cert.pem"
        assert (data_dir / "certs" / "key.pem").stat().st_mode & 0o077 == 0
        # Verified against the generated certificate, by address and by name.
        r = requests.get(hub.hub_url("health"), verify=str(cert_file), timeout=10)
        assert r.status_code == 200
        served = served_certificate(hub)
        assert served == x509.load_pem_x509_certificate(cert_file.read_bytes())
        names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert {"hub.example.test", "localhost"} <= set(names.get_values_for_type(x509.DNSName))
        assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
        # Plain HTTP is not served on the public port.
        with pytest.raises(requests.RequestException):
            requests.get(hub.hub_url("health").replace("https://", "http://"), timeout=5)
    first = cert_file.read_bytes()
    with running_hub(tmp_path, env, data_dir) as hub:  # generated once, kept afterwards
        assert cert_file.read_bytes() == first
        assert served_certificate(hub) == x509.load_pem_x509_certificate(first)


def test_ssl_hub_serves_the_operators_own_certificate(tmp_path):
    cert_pem, key_pem = generate_self_signed(["own.example.test", "127.0.0.1"])
    certs = tmp_path / "hub" / "certs"
    certs.mkdir(parents=True)
    (certs / "cert.pem").write_bytes(cert_pem)
    (certs / "key.pem").write_bytes(key_pem)
    with running_hub(tmp_path, {"ENABLE_JUPYTERHUB_SSL": "1"}) as hub:
        assert served_certificate(hub) == x509.load_pem_x509_certificate(cert_pem)
        assert served_logo(hub, verify=str(certs / "cert.pem")).content == STOCK_LOGO
    assert (certs / "cert.pem").read_bytes() == cert_pem


def test_ssl_hub_refuses_to_start_with_half_a_certificate(tmp_path):
    certs = tmp_path / "hub" / "certs"
    certs.mkdir(parents=True)
    (certs / "cert.pem").write_bytes(generate_self_signed(["x.example.test"])[0])
    hub = Hub(tmp_path / "hub", env={"ENABLE_JUPYTERHUB_SSL": "1"})
    with pytest.raises(RuntimeError, match="hub exited"):
        hub.start(timeout=30)
    assert "DS Hub cannot start: ENABLE_JUPYTERHUB_SSL=1:" in hub_log(hub)
    assert "key.pem does not" in hub_log(hub)
