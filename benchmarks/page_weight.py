"""Page weight: every byte a browser loads for a page, raw and gzip, with a cold cache.

Chromium (Debian's /usr/bin/chromium, driven by Playwright, which downloads no browser here)
opens each page in a fresh context signed in as the admin and waits for the network to go idle;
every response is counted (document, scripts, styles, fonts, images, XHR/htmx). "gzip" is each
text response compressed at level 6 (what a gzip-enabled server or proxy would send); fonts
and images are counted as they are.

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.page_weight [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, async_playwright

from tests.support.clients import Portal
from tests.support.insights import seed_history
from tests.support.page_settled import SETTLED

from .common import arguments, bench_hub, create_accounts, create_plain_users, machine, run, save
from .stats import measured, table

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
GOAL_GZIP = 130 * 1024
ADMIN_GOAL_GZIP = 150 * 1024  # issue 28: each page of the admin console (Insights included)
INSIGHTS = "/hub/portal/admin/insights"
USERS = "/hub/portal/admin/users"
QUICK = {"users": 3, "every_admin_page": False}
ICON_FONT = "fa-solid-900.woff2"
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml",
              "application/x-javascript", "application/xml")


def goal(page: str) -> int:
    return ADMIN_GOAL_GZIP if page.startswith("/hub/portal/admin") else GOAL_GZIP


def admin_pages() -> dict[str, str]:
    """Each admin page (portal/views/admin_pages.py) -> what to open: Insights over a month."""
    from portal.views.admin_pages import SECTIONS

    pages = {f"/hub/portal/admin/{s.slug}".rstrip("/"): f"portal/admin/{s.slug}".rstrip("/")
             for s in SECTIONS}
    pages[INSIGHTS] += "?period=month"
    return pages


def gzip_size(body: bytes, content_type: str) -> int:
    if content_type.startswith(TEXT_TYPES):
        return len(gzip.compress(body, 6))
    return len(body)  # already compressed formats (woff2, png, ...)


async def weigh(browser: Browser, cookies: list[dict[str, Any]], url: str,
                block: tuple[str, ...] = ()) -> dict[str, Any]:
    """Everything the page loads; `block`: URL parts refused (what-if without a resource)."""
    context = await browser.new_context()
    await context.add_cookies(cookies)
    page = await context.new_page()
    responses = []
    errors: list[str] = []
    page.on("response", lambda r: responses.append(r))
    page.on("pageerror", lambda e: errors.append(str(e)[:200]))
    page.on("console", lambda m: errors.append(m.text[:200]) if m.type == "error" else None)
    if block:
        await page.route(lambda u: any(b in u for b in block), lambda route: route.abort())
    # Not "networkidle": the page's event stream (pushed updates) never goes idle. Load, then
    # let htmx fetch the fragments the page loads by itself.
    await page.goto(url, wait_until="load")
    await page.wait_for_function(SETTLED, timeout=15_000)
    await page.wait_for_timeout(300)
    cards = await page.locator("[data-state]").count()
    charts = await page.locator("svg[data-chart]").count()
    items = []
    for r in responses:
        if 300 <= r.status < 400:
            continue  # a redirect has no body a page uses
        if "text/event-stream" in (await r.all_headers()).get("content-type", ""):
            continue  # the open event stream: no body until the page closes it
        try:
            body = await r.body()
        except Exception:  # noqa: BLE001 (e.g. a response the page dropped)
            body = b""
        ctype = (await r.all_headers()).get("content-type", "").split(";")[0].strip()
        items.append({
            "url": urlsplit(r.url).path, "type": r.request.resource_type, "status": r.status,
            "content_type": ctype, "raw": len(body), "gzip": gzip_size(body, ctype),
            "served_gzip": (await r.all_headers()).get("content-encoding") == "gzip",
        })
    await context.close()
    measured(f"responses loaded by {urlsplit(url).path}", items)
    by_type: dict[str, int] = {}
    for i in items:
        by_type[i["type"]] = by_type.get(i["type"], 0) + i["gzip"]
    code = [i for i in items if i["type"] not in ("font", "image")]
    return {
        "url": urlsplit(url).path, "requests": len(items), "blocked": list(block),
        "errors": [e for e in errors if "net::ERR_FAILED" not in e or not block],
        "server_cards": cards, "charts": charts,
        "raw": sum(i["raw"] for i in items), "gzip": sum(i["gzip"] for i in items),
        # All but fonts and images: how the issue counted (/hub/home ~171, /hub/admin ~251 KB).
        "gzip_without_fonts_images": sum(i["gzip"] for i in code),
        "gzip_by_type": by_type, "items": sorted(items, key=lambda i: -i["gzip"]),
    }


async def measure(hub: Any, admin: Portal, users: int, every_admin_page: bool = True
                  ) -> dict[str, Any]:
    cookies = [{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"}
               for c in admin.s.cookies]
    admin_console = admin_pages()
    pages = {"/hub/portal": "portal", "/hub/home": "home", "/hub/admin": "admin"}
    if not every_admin_page:  # quick: only the pages whose content is checked below, and
        # JupyterHub's home; not its admin page (1.4 MB of React) nor the what-if
        admin_console = {k: v for k, v in admin_console.items() if k in (USERS, INSIGHTS)}
        del pages["/hub/admin"]
    pages.update(admin_console)
    out = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, path in pages.items():
                out[name] = await weigh(browser, cookies, hub.hub_url(path))
            # The portal's pages must show what they are for, or their weight means nothing.
            measured("server cards on /hub/portal", out["/hub/portal"]["server_cards"], 1)
            measured(f"user rows on {USERS}", out[USERS]["server_cards"], users)
            measured("charts on Insights", out[INSIGHTS]["charts"], 4)
            # What-if: without the icon font that the hub's navbar icons (theme toggle, logout)
            # pull in through the hub's style.min.css.
            if every_admin_page:
                out["/hub/portal, what-if: no icon font"] = await weigh(
                    browser, cookies, hub.hub_url("portal"), (ICON_FONT,))
        finally:
            await browser.close()
    return out


def goal_words(size: int, goal: int) -> str:
    return f"< {goal // 1024} KB: {'met' if size < goal else 'missed'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="users (rows of the user table)")
    parser.add_argument("--every-admin-page", action=argparse.BooleanOptionalAction,
                        default=True, help="weigh each admin page, JupyterHub's admin page and "
                        "the what-if (quick: two admin pages, no what-if)")
    args = arguments(parser, QUICK)
    results: dict[str, Any] = {"machine": machine(), "users": args.users, "goal_gzip": GOAL_GZIP,
                               "admin_goal_gzip": ADMIN_GOAL_GZIP}
    with bench_hub() as hub:
        admin = Portal(hub, "admin")
        create_accounts(admin, ["reader"])
        # admin + reader + plain users: one card each on the admin page
        create_plain_users(hub, [f"user{i}" for i in range(args.users - 2)])
        # A month of hourly rollups for everyone: the Insights page as an admin sees it.
        seed_history(hub, ["admin", "reader", *(f"user{i}" for i in range(args.users - 2))], 30)
        results["pages"] = asyncio.run(measure(hub, admin, args.users,
                                                     args.every_admin_page))
    pages = results["pages"]
    kb = lambda n: round(n / 1024, 1)  # noqa: E731
    print(table(["page (signed in as admin, cold cache)", "requests", "raw KB", "gzip KB",
                 "gzip KB w/o fonts+images", "font KB", "JS errors", "goal (gzip)"],
                [[k, v["requests"], kb(v["raw"]), kb(v["gzip"]),
                  kb(v["gzip_without_fonts_images"]), kb(v["gzip_by_type"].get("font", 0)),
                  len(v["errors"]), goal_words(v["gzip"], goal(k))]
                 for k, v in pages.items()]))
    for k, v in pages.items():
        for error in v["errors"]:
            print(f"{k}: {error}")
    for name in ("/hub/portal", "/hub/home"):
        print(f"\n{name}: largest responses")
        print(table(["url", "type", "raw KB", "gzip KB"],
                    [[i["url"][-60:], i["type"], kb(i["raw"]), kb(i["gzip"])]
                     for i in pages[name]["items"][:12]]))
    save("page_weight", results, args.quick)


if __name__ == "__main__":
    run(main)
