"""In Chromium: a hostile SVG logo opened directly at {base_url}hub/logo runs nothing and
sends no request, whether it came through the sanitiser or was written past it.

Every payload would, if anything in it ran or loaded, call a loopback listener run here, write a
console marker, open a dialog or mark the document; none of that may happen.
"""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import Browser

from portal.platform.branding import LogoError, sanitise_svg
from tests.support.hub import Hub

pytestmark = pytest.mark.hub

SVG_NS = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
SCRIPT = ("try{{document.documentElement.setAttribute('data-pwned','{case}')}}catch(e){{}}"
          "try{{console.log('DSHUB-PWNED {case}')}}catch(e){{}}"
          "try{{fetch('{hit}/script/{case}',{{mode:'no-cors'}})}}catch(e){{}}"
          "try{{alert('{case}')}}catch(e){{}}")


def payloads(hit: str) -> dict[str, str]:
    """name -> SVG text; `hit` is the listener's base URL."""

    def js(case: str) -> str:
        return SCRIPT.format(case=case, hit=hit)

    inner = (f'<svg xmlns="{SVG_NS}" id="x"><script>{js("use-data-inner")}</script>'
             f'<image href="{hit}/use-data-image" width="9" height="9"/></svg>')
    inner_uri = "data:image/svg+xml;base64," + base64.b64encode(inner.encode()).decode()
    srcdoc = js("srcdoc").replace("'", "&#39;")
    return {
        "ns-prefixed-script": (
            f'<svg xmlns="{SVG_NS}" xmlns:s="{SVG_NS}" width="80" height="20">'
            f'<s:script>{js("ns-script")}</s:script><rect width="80" height="20"/></svg>'),
        "ns-foreignobject-srcdoc": (
            f'<svg xmlns="{SVG_NS}" xmlns:s="{SVG_NS}" width="300" height="150">'
            f'<s:foreignObject width="300" height="150">'
            f'<iframe xmlns="http://www.w3.org/1999/xhtml" '
            f'srcdoc="&lt;script&gt;{srcdoc}&lt;/script&gt;&lt;img src=&quot;{hit}/srcdoc-img'
            f'&quot;&gt;"/></s:foreignObject></svg>'),
        "use-data-uri": (
            f'<svg xmlns="{SVG_NS}" width="80" height="20"><use href="{inner_uri}#x"/></svg>'),
        "xlink-javascript": (
            f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK}" width="300" height="150">'
            f'<a xlink:href="javascript:{js("xlink")}"><rect width="300" height="150" '
            f'fill="teal"/></a></svg>'),
        "animated-href": (
            f'<svg xmlns="{SVG_NS}" width="300" height="150"><a><set attributeName="href" '
            f'to="javascript:{js("set-href")}"/><rect width="300" height="150"/></a></svg>'),
        "css-url": (
            f'<svg xmlns="{SVG_NS}" width="300" height="150" '
            f'style="background-image:url({hit}/css-attribute)">'
            f'<style>@import url({hit}/css-import); rect {{ fill: url({hit}/css-fill#p) }}'
            f' svg {{ background: url({hit}/css-background) }}</style>'
            f'<image href="{hit}/external-image" width="10" height="10"/>'
            f'<rect width="300" height="150"/></svg>'),
        "entity": (
            f'<!DOCTYPE svg [<!ENTITY x "&#60;script&#62;{js("entity")}&#60;/script&#62;">]>'
            f'<svg xmlns="{SVG_NS}" width="80" height="20">&x;</svg>'),
        "event-handler": (
            f'<svg xmlns="{SVG_NS}" width="80" height="20" onload="{js("onload")}">'
            f'<rect width="80" height="20"/></svg>'),
    }


class Listener:
    """A loopback HTTP server that records every request it gets."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    handle = Listener()
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def logo_hub(tmp_path_factory, listener) -> Iterator[Hub]:
    """A hub whose configured logo is hostile: the namespace-prefixed script."""
    svg = payloads(listener.url)["ns-prefixed-script"]
    hub = Hub(tmp_path_factory.mktemp("logo-hub"),
              env={"JUPYTERHUB_CUSTOM_LOGO_URI": "data:image/svg+xml," + quote(svg)})
    hub.start()
    yield hub
    hub.stop()


def open_and_watch(browser: Browser, url: str, listener: Listener, click: bool = False,
                   route: tuple[str, bytes] | None = None) -> list[str]:
    """Open `url` as a page; everything that shows that script ran or a request left."""
    listener.hits.clear()
    page = browser.new_page()
    signs: list[str] = []
    page.on("dialog", lambda d: (signs.append(f"dialog {d.message}"), d.dismiss()))
    page.on("console", lambda m: signs.append(f"console {m.text}")
            if "DSHUB-PWNED" in m.text else None)
    # A request the policy blocks is still announced ("request", then "requestfailed" with
    # net::ERR_BLOCKED_BY_CSP); one that completed has left the page.
    page.on("requestfinished", lambda r: signs.append(f"request {r.url}")
            if not r.url.startswith((url, "data:")) else None)
    if route:
        page.route(route[0], lambda r: r.fulfill(status=200, body=route[1],
                                                 content_type="image/svg+xml"))
    try:
        page.goto(url)
        if click:
            page.mouse.click(20, 20)
        page.wait_for_timeout(700)
        marked = page.evaluate("document.documentElement.getAttribute('data-pwned')")
        if marked:
            signs.append(f"document marked by {marked}")
    finally:
        page.close()
    return signs + [f"listener got {hit}" for hit in listener.hits]


def test_logo_is_served_with_a_policy_that_runs_nothing(logo_hub):
    r = requests.get(logo_hub.hub_url("logo"), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Security-Policy"] == (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_configured_hostile_logo_is_sanitised_and_inert(logo_hub, browser, listener):
    served = requests.get(logo_hub.hub_url("logo"), timeout=10)
    assert served.headers["Content-Type"] == "image/svg+xml"
    text = served.text.lower()
    for word in ("script", "fetch", listener.url):
        assert word not in text, served.text
    assert "<rect" in text  # the harmless part of the logo stays
    assert open_and_watch(browser, logo_hub.hub_url("logo"), listener) == []


@pytest.mark.parametrize("case", list(payloads("http://x")))
def test_every_bypass_written_past_the_sanitiser_runs_nothing(logo_hub, browser, listener,
                                                              case):
    """The worst case: the raw payload is the served file. The headers alone keep it inert."""
    served_file = Path(logo_hub.data_dir, "branding", "logo.svg")
    assert served_file.exists()
    # Replaced, not rewritten in place: a read of the file while it changes sends more bytes
    # than the size announced, the hub drops the connection and the proxy answers 503 (seen
    # once in a full run: "Tried to write more data than Content-Length").
    staged = served_file.with_name(".logo.svg.tmp")
    staged.write_text(payloads(listener.url)[case])
    staged.replace(served_file)
    assert requests.get(logo_hub.hub_url("logo"), timeout=10).text.startswith(
        payloads(listener.url)[case][:20])
    signs = open_and_watch(browser, logo_hub.hub_url("logo"), listener,
                           click=case in ("xlink-javascript", "animated-href"))
    assert signs == []


@pytest.mark.parametrize("case", list(payloads("http://x")))
def test_every_bypass_is_inert_after_the_sanitiser_alone(browser, listener, case):
    """The sanitiser's output rendered in Chromium without any protective header."""
    raw = payloads(listener.url)[case].encode()
    try:
        clean = sanitise_svg(raw)
    except LogoError:
        assert case == "entity"  # a DTD is refused outright: the logo is not used at all
        return
    url = f"{listener.url}/sanitised/{case}.svg"
    signs = open_and_watch(browser, url, listener, route=(url, clean),
                           click=case in ("xlink-javascript", "animated-href"))
    assert signs == []
