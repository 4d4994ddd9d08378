"""report.html in a real browser (Debian's Chromium through Playwright, launched as the crawler launches it):
hostile listings run no script and load nothing, the page still renders, and it reads on a desktop and on
a phone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from crawler.spiders.browser import CHROMIUM, CHROMIUM_ARGS
from reports.daily import build_daily_report
from reports.page import card_id
from store.db import Store
from tests.reports.report_builders import DAY0, DAY1, DAY2, World, bkk, two_days

pytestmark = pytest.mark.browser

PWN = "window.__pwned=1"
HUGE = "ปลั๊กพ่วง " * 10_000  # 100 kB of title
# (marketplace id, title, seller, url, licence shown, reason detail)
HOSTILE = [
    ("script", f"<script>{PWN};alert(1)</script>", f"<img src=x onerror=\"{PWN};alert(2)\">",
     f"javascript:{PWN}", f'"><svg onload="{PWN}">', f"</li><script>{PWN}</script>"),
    ("attrs", f'" onmouseover="{PWN}" x="', "<iframe src=\"javascript:window.top.__pwned=1\"></iframe>",
     f'https://shop-a.test/p/1" onfocus="{PWN}" autofocus="', f"<body onload={PWN}>",
     "<style>body{display:none}</style><meta http-equiv=refresh content='0;url=https://evil.test'>"),
    ("formula", '=HYPERLINK("https://evil.test","ลดราคา")', "+cmd|' /C calc'!A0", " JaVaScRiPt:alert(3)",
     "@SUM(1+1)", "-2+3"),
    ("rtl", "\u202egnp.exe\u202c ปลั๊กพ่วง", "ร้าน\u202eดี", "data:text/html,<script>alert(4)</script>", None,
     "\u202e\u2066"),
    ("huge", HUGE, "\x01\x07ร้าน", "vbscript:msgbox(5)", "ท" * 5_000, HUGE),
    ("../../../etc/passwd", "../../etc/passwd", "C:\\Windows\\system32", "file:///etc/passwd", None,
     "<a href='javascript:alert(6)'>x</a>"),
]  # fmt: skip


@dataclass
class Watch:
    """Everything a page did that a report page must not do."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, html: Path, width: int = 1280, height: int = 900) -> tuple[Any, Any, Watch]:
    """The page opened from its file, offline, with every dialog, error, message and request recorded."""
    watch = Watch()
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    context.on("request", lambda request: watch.requests.append(request.url))
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("console", lambda message: watch.console.append(f"{message.type}: {message.text}"))
    page.goto(html.as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # give anything that was going to run (timers, refreshes) the chance
    return context, page, watch


@pytest.fixture
def hostile_report(any_store: Store, tmp_path: Path) -> Path:
    with any_store.session() as session:
        world = World(session)
        world.register()
        for key, title, seller, url, licence, detail in HOSTILE:
            listing = world.listing(key, title=title, seller=seller, url=url, site="<b>shop</b>")
            world.observe(
                listing, bkk(DAY1), "invalid_licence", licence_status="not_found", licence_claimed=licence,
                tis_number=f"<i onclick='{PWN}'>2879</i>", warc_file=f"javascript:{PWN}",
                screenshot_file="../../x y.png", reasons=[{"feature": f"<b onclick='{PWN}'>f</b>", "score": 1,
                                                           "detail": detail}],
            )  # fmt: skip
    return build_daily_report(any_store, tmp_path / "report", DAY1, evidence_root=tmp_path).html


def test_the_detector_sees_a_script_that_runs(browser: Any, tmp_path: Path) -> None:
    """The hooks below would catch a script: a page that does run one trips every one of them."""
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><title>x</title><script>{PWN};console.log('ran');alert('x')</script>")
    context, page, watch = open_page(browser, control)
    try:
        assert page.evaluate("window.__pwned") == 1
        assert watch.dialogs == ["x"]
        assert "log: ran" in watch.console
    finally:
        context.close()


def test_hostile_listings_run_no_script_and_load_nothing(browser: Any, hostile_report: Path) -> None:
    context, page, watch = open_page(browser, hostile_report)
    try:
        assert page.evaluate("window.__pwned") is None
        # hover, focus and click what a person would: still nothing runs
        for selector in ("article h3", "article .reasons li", "#sellers td"):
            page.locator(selector).first.hover()
        page.keyboard.press("Tab")
        page.locator("article .links code").first.click()
        page.wait_for_timeout(200)
        assert page.evaluate("window.__pwned") is None
        assert watch.dialogs == []
        assert watch.errors == []
        assert watch.console == []
        assert watch.requests == [hostile_report.as_uri()]  # the page itself, nothing else
        # no element carries an event handler, and no link a scheme other than http(s) or a relative path
        handlers = page.evaluate(
            "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
            ".filter(n => n.startsWith('on'))"
        )
        assert handlers == []
        hrefs = page.evaluate("[...document.querySelectorAll('[href],[src]')].map(e => e.href || e.src)")
        assert all(href.startswith(("https://", "http://", "file://")) or "#" in href for href in hrefs), (
            hrefs
        )
        assert page.locator("script, iframe, img, object, embed, meta[http-equiv=refresh]").count() == 0
        # ... and it still renders: every hostile listing as a card, its text shown as text
        assert page.locator("h1").is_visible()
        assert page.locator("#new article").count() == len(HOSTILE)
        assert page.locator(f"#{card_id('shop:../../../etc/passwd')}").count() == 0  # the site is <b>shop</b>
        assert page.locator(f"#{card_id('<b>shop</b>:../../../etc/passwd')}").is_visible()
        text = page.locator("#new").inner_text()
        assert f"<script>{PWN};alert(1)</script>" in text
        assert "javascript:window.__pwned=1" in text
        assert "\u202e" not in page.content()
        assert page.locator("body").is_visible()
        assert page.evaluate("getComputedStyle(document.body).display") == "block"
    finally:
        context.close()


SECTIONS = ("new", "continuing", "resolved", "sellers", "health")


@pytest.fixture
def everyday_report(sqlite_store: Store, tmp_path: Path) -> Path:
    """The two-day scenario with crawl health, alerts, a long title and a long URL."""
    with sqlite_store.session() as session:
        world = World(session)
        two_days(world)
        long = world.listing(
            "long", title="ปลั๊กพ่วง" * 400, seller="ร้าน" * 60, url="https://shop-a.test/p/" + "x" * 600
        )
        world.observe(long, bkk(DAY2), "no_licence_shown", licence_claimed="ท" * 300)
        world.run("shop-a", bkk(DAY0, 6), {"pages": 100, "items": 100, "coverage": {"seller": 0.9}})
        world.run("shop-a", bkk(DAY2, 6), {"pages": 120, "items": 100, "errors": {"TimeoutError": 30},
                                          "coverage": {"title": 1.0, "price": 0.9, "seller": 0.5}})  # fmt: skip
        world.run("shop-b", bkk(DAY2, 7), {}, status="failed")
    return build_daily_report(sqlite_store, tmp_path / "report", DAY2, evidence_root=tmp_path).html


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 900), ("phone", 390, 844)])
def test_the_report_reads_on_a_desktop_and_a_phone(
    browser: Any, everyday_report: Path, tmp_path: Path, name: str, width: int, height: int
) -> None:
    context, page, watch = open_page(browser, everyday_report, width, height)
    try:
        shot = tmp_path / f"report-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        with Image.open(shot) as image:
            assert image.width == width
            assert image.height > 2 * height  # the whole page, not only the first screen
        for section in SECTIONS:
            box = page.locator(f"#{section}").bounding_box()
            assert box is not None, section
            assert box["width"] > 0, section
            assert box["height"] > 0, section
            assert box["x"] >= 0, section
            assert box["x"] + box["width"] <= width + 0.5, (section, box)
            heading = page.locator(f"#{section} > h2")
            assert heading.is_visible(), section
            heading_box = heading.bounding_box()
            assert heading_box is not None
            assert heading_box["x"] + heading_box["width"] <= width + 0.5, (section, heading_box)
        assert page.locator("#new article").count() > 0
        assert page.locator("#health .alert").count() >= 2
        for chart in page.locator("svg.chart").all():
            box = chart.bounding_box()
            assert box is not None
            assert box["width"] > 0
            assert box["x"] + box["width"] <= width + 0.5
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page is {overflow}px wider than the {name} screen"
        assert watch.errors == []
        assert watch.console == []
        assert watch.requests == [everyday_report.as_uri()]
    finally:
        context.close()


# Emoji that the generic sans-serif family (DejaVu Sans) draws in black and white: they render in colour
# only when the colour emoji font is installed and named in the page's font stack.
EMOJI_TITLE = "⚡ ปลั๊กพ่วง 4 ช่อง ⚠ ⚡"


def _saturated(path: Path) -> int:
    """How many pixels of an image are strongly coloured (black text on white has none)."""
    with Image.open(path) as image:
        pixels = image.convert("RGB").get_flattened_data()
    return sum(1 for red, green, blue in pixels if max(red, green, blue) - min(red, green, blue) > 60)


def test_emoji_in_titles_render_in_colour(browser: Any, sqlite_store: Store, tmp_path: Path) -> None:
    with sqlite_store.session() as session:
        world = World(session)
        world.observe(world.listing("emoji", title=EMOJI_TITLE), bkk(DAY1), "no_licence_shown")
    html = build_daily_report(sqlite_store, tmp_path / "report", DAY1).html
    context, page, watch = open_page(browser, html)
    try:
        title = page.locator(f"#{card_id('shop-a:emoji')} h3")
        assert title.inner_text() == EMOJI_TITLE
        shot = tmp_path / "title.png"
        title.screenshot(path=str(shot))
        assert _saturated(shot) > 150  # three emoji in colour; in black and white there would be none
        cdp = context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send(
            "DOM.querySelector", {"nodeId": root, "selector": f"#{card_id('shop-a:emoji')} h3 bdi"}
        )
        fonts = {font["familyName"]: font["glyphCount"] for font in cdp.send(
            "CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]}  # fmt: skip
        assert fonts.get("Noto Color Emoji") == 3, fonts  # every emoji drawn by the colour font
        assert watch.requests == [html.as_uri()]  # the font is the machine's: nothing is downloaded
    finally:
        context.close()
