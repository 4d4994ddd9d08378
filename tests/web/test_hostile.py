"""Hostile listings on every page of the workspace, in Debian's Chromium through Playwright.

The workspace is crawled like a visitor would: from the home page, every link of this site is followed
(GET only), for each role that reads. On every page: the Content-Security-Policy header is there, no
dialog opens, no script of a listing runs, no request leaves the app, no element carries an event
handler and no link uses ``javascript:``. New pages are covered as soon as a page links to them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from store.clock import utcnow
from store.db import Store
from store.decisions import decide
from store.models import CaseSend, Listing, User
from tests.reports.report_builders import World
from tests.reports.test_report_browser import HOSTILE, PWN
from tests.web.conftest import PASSWORD, LiveServer

pytestmark = pytest.mark.browser

MAX_PAGES = 80
"""Pages visited per role (the crawl stops there; a test below asserts it reached the main pages)."""


@pytest.fixture
def hostile(sqlite_store: Store, people: dict[str, str]) -> list[str]:
    """The hostile listings of the report's browser test, seen today, one of them decided on with a
    hostile note; returns their listing keys."""
    now = utcnow()
    keys = []
    with sqlite_store.session() as session:
        world = World(session)
        world.register(at=now - timedelta(days=30))
        for marketplace_id, title, seller, url, licence, detail in HOSTILE:
            listing = world.listing(marketplace_id, title=title, seller=seller, url=url, site="<b>shop</b>")
            listing.first_seen = listing.last_seen = now - timedelta(hours=2)
            world.observe(
                listing, now - timedelta(hours=1), "invalid_licence", licence_status="not_found",
                licence_claimed=licence, tis_number=f"<i onclick='{PWN}'>2879</i>",
                reasons=[{"feature": f"<b onclick='{PWN}'>f</b>", "score": 1, "detail": detail}],
            )  # fmt: skip
            keys.append(listing.listing_key)
        officer = session.query(User).filter_by(username="officer").one()
        script = session.query(Listing).filter_by(marketplace_id="script").one()
        decide(session, officer, [script.id], "needs_information", note=f"<script>{PWN}</script> ดูอีกที")
        huge = session.query(Listing).filter_by(marketplace_id="huge").one()
        decide(session, officer, [huge.id], "confirmed", note=f"<img src=x onerror={PWN}>")
        session.add(CaseSend(listing_id=huge.id, case_id="c-0", export_name="<b>x</b>.zip", sent_at=now))
    return keys


def signed_in_page(browser: Any, server: LiveServer, username: str) -> tuple[Any, Any, dict[str, list[str]]]:
    seen: dict[str, list[str]] = {"dialogs": [], "errors": [], "outside": [], "no_csp": []}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    app_host = urlsplit(server.url).netloc

    def on_request(request: Any) -> None:
        parts = urlsplit(request.url)
        web = parts.scheme in ("http", "https")
        if (web and parts.netloc != app_host) or parts.scheme not in (
            "http",
            "https",
            "data",
            "about",
            "blob",
        ):
            seen["outside"].append(request.url)

    def on_response(response: Any) -> None:
        ours = response.request.resource_type == "document" and urlsplit(response.url).netloc == app_host
        if ours and "content-security-policy" not in response.headers:
            seen["no_csp"].append(response.url)

    context.on("request", on_request)
    context.on("response", on_response)
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    return context, page, seen


def links(page: Any, server: LiveServer) -> list[str]:
    hrefs: list[str] = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
    host = urlsplit(server.url).netloc
    return [
        href.split("#")[0]
        for href in hrefs
        if urlsplit(href).netloc == host and not urlsplit(href).path.startswith(("/static/", "/logout"))
    ]


def check_page(page: Any) -> None:
    assert page.evaluate("window.__pwned") is None, page.url
    handlers = page.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
        ".filter(n => n.startsWith('on'))"
    )
    assert handlers == [], page.url
    bad = page.evaluate(
        "[...document.querySelectorAll('[href],[src],[action],[formaction]')]"
        ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action') || "
        "e.getAttribute('formaction') || '')"
        ".filter(u => /^\\s*(javascript|vbscript|data):/i.test(u))"
    )
    assert bad == [], page.url


@pytest.mark.parametrize("role", ["officer", "supervisor", "viewer", "admin"])
def test_hostile_listings_on_every_page(
    browser: Any, live_server: LiveServer, hostile: list[str], role: str
) -> None:
    context, page, seen = signed_in_page(browser, live_server, role)
    try:
        queue = [page.url, f"{live_server.url}/"]
        visited: set[str] = set()
        while queue and len(visited) < MAX_PAGES:
            url = queue.pop(0)
            if url in visited:
                continue
            visited.add(url)
            answer = page.goto(url, wait_until="load")
            assert answer is not None
            assert answer.status < 500, url
            if "text/html" not in answer.headers.get("content-type", ""):
                continue
            page.wait_for_timeout(50)
            check_page(page)
            for key in ("j", "k", "Tab"):  # the keyboard shortcuts and focus move; nothing may run
                page.keyboard.press(key)
            check_page(page)
            queue.extend(link for link in links(page, live_server) if link not in visited)
        assert seen["dialogs"] == []
        assert seen["errors"] == []
        assert seen["outside"] == []
        assert seen["no_csp"] == []
        paths = {urlsplit(url).path for url in visited}
        assert {"/", "/queue", "/listing", "/sellers", "/seller", "/takedowns"} <= paths, paths
        listed = {url for url in visited if urlsplit(url).path == "/listing"}
        assert len(listed) >= len(hostile), "every hostile listing's page was opened"
        assert any("huge" in url for url in listed)
        if role == "admin":
            assert "/users" in paths
    finally:
        context.close()
