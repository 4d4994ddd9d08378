"""An officer's morning in Debian's Chromium, on listings crawled from the demo shops with real evidence:
sign in, filter the queue, dismiss several listings at once, open a listing's evidence, confirm it;
then the case file holds the confirmed case and verifies. Desktop and phone screenshots show the key
parts of the queue and the listing page."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from config import Settings, load_settings
from crawler.profile import load_profile
from crawler.runner import crawl
from crawler.spiders.browser import CHROMIUM
from demo.server import start_shops
from demo.writer import write_registers
from matchers.match import match_pending
from matchers.register import ensure_default_register, import_register
from reports.verify import verify_casefile
from store.db import Store
from store.models import Decision, Listing
from store.people import add_user
from tests.web.conftest import PASSWORD, LiveServer, serve
from web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = 40
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store]]:
    """The demo's browser shop crawled in Chromium (pages, screenshots, WARC records), matched."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("workflow")
    settings = load_settings(
        overrides={"data_dir": str(folder / "data"), "crawl": {"images": False}}, environ={}
    )
    store = Store(settings.database_url)
    store.migrate()
    ensure_default_register(store)
    for kind, path in write_registers(folder / "registers", seed=7, size=SIZE).items():
        import_register(store, path, kind=kind)
    with start_shops(seed=7, size=SIZE, day=1, faults=False) as shops:
        profile = load_profile("demo-browser").with_base_url(shops.urls["browser"])
        [result] = crawl(settings, [profile], queries=[], store=store)
    assert result.status == "finished"
    match_pending(store, settings)
    with store.session() as session:
        add_user(session, "somchai", "officer", PASSWORD, display_name="สมชาย")
    yield settings, store
    store.dispose()


@pytest.fixture(scope="module")
def server(crawled: tuple[Settings, Store]) -> Iterator[LiveServer]:
    settings, store = crawled
    running = serve(create_app(settings, store))
    yield running
    running.server.should_exit = True
    running.thread.join(timeout=10)


def sign_in(browser: Any, server: LiveServer, viewport: dict[str, int]) -> tuple[Any, Any]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(f"{server.url}/queue")
    assert "/login" in page.url, "the queue asks who is there first"
    page.fill("input[name=username]", "somchai")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/queue*")
    return context, page


def fits_the_width(page: Any, selector: str) -> bool:
    """The element is shown and no wider than the viewport (nothing to scroll sideways to)."""
    box = page.locator(selector).first.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


def decisions(store: Store) -> list[tuple[str, str, str | None, str]]:
    with store.session() as session:
        rows = session.execute(
            select(Listing.listing_key, Decision.decision, Decision.reason, Decision.decided_by)
            .join(Listing, Listing.id == Decision.listing_id)
            .order_by(Decision.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_an_officers_morning(
    browser: Any, server: LiveServer, crawled: tuple[Settings, Store], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    _, store = crawled
    context, page = sign_in(browser, server, DESKTOP)
    try:
        rows = page.locator("#queue-results tbody tr[data-row]")
        assert rows.count() >= 4, "the crawl left violations to review"
        page.screenshot(path=tmp_path / "queue-desktop.png", full_page=False)

        # filter: only the invalid licences
        page.select_option("select[name=verdict]", "invalid_licence")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**verdict=invalid_licence*")
        page.wait_for_load_state("networkidle")
        filtered = rows.count()
        assert filtered >= 2
        verdicts = page.locator("#queue-results tbody tr[data-row] td:nth-child(4)").all_inner_texts()
        assert all("invalid licence" in text.lower() or "ใบอนุญาต" in text for text in verdicts), verdicts

        # dismiss two at once, with a reason
        keys = [
            page.locator("#queue-results tbody tr[data-row] a.open").nth(n).get_attribute("href")
            for n in range(2)
        ]
        for n in range(2):
            page.locator("#queue-results tbody tr[data-row] input[name=listing_id]").nth(n).check()
        page.select_option("select[name=reason]", "licence_valid")
        page.click("button[name=decision][value=dismissed]")
        page.wait_for_load_state("networkidle")
        expect(rows).to_have_count(filtered - 2)  # wait_for_function would eval: the CSP forbids it
        made = decisions(store)
        assert [(decision, reason, by) for _, decision, reason, by in made] == [
            ("dismissed", "licence_valid", "somchai")
        ] * 2
        assert {f"/listing?key={key.replace(':', '%3A')}" for key, *_ in made} == set(keys)

        # open the next listing: its evidence, then confirm it
        page.goto(f"{server.url}/queue?view=open")
        first = page.locator("#queue-results tbody tr[data-row] a.open").first
        key_href = first.get_attribute("href")
        first.click()
        page.wait_for_url("**/listing?key=*")
        assert page.locator("#evidence").is_visible()
        shot = page.locator("img.screenshot")
        assert shot.evaluate("img => img.complete && img.naturalWidth > 0"), "the screenshot is shown"
        frame = page.frame_locator("iframe.replay")
        assert frame.locator("body").inner_text(timeout=5000).strip(), "the page as fetched is replayed"
        hashes = page.locator(".hash").all_inner_texts()
        assert any(len(text.strip()) == 64 for text in hashes), "each record's SHA-256 is shown"
        page.screenshot(path=tmp_path / "listing-desktop.png", full_page=False)
        with page.expect_navigation():  # a plain form post, answered with a 303 back to the listing
            page.click("button[name=decision][value=confirmed]")
        confirmed = [key for key, decision, *_ in decisions(store) if decision == "confirmed"]
        assert len(confirmed) == 1
        assert key_href is not None
        assert key_href.endswith(confirmed[0].replace(":", "%3A"))

        # hand the confirmed case to ETDA: the signed case file downloads from the takedowns page
        page.goto(f"{server.url}/takedowns")
        with page.expect_download() as download:
            page.click("form.export button[type=submit]")
        out = tmp_path / "cases.zip"
        download.value.save_as(out)
        assert download.value.suggested_filename.startswith("cases-")
        page.goto(f"{server.url}/takedowns")
        sent = page.locator(f'main a[href="/listing?key={confirmed[0].replace(":", "%3A")}"]')
        assert sent.count() >= 1, "the sent case is listed with its takedown status"
    finally:
        context.close()

    # the phone: the queue's table and toolbar, and the listing's evidence, fit the screen
    context, page = sign_in(browser, server, PHONE)
    try:
        assert fits_the_width(page, "#queue-results table")
        first_row = page.locator("#queue-results tbody tr[data-row]").first.bounding_box()
        assert first_row is not None
        assert first_row["y"] < PHONE["height"] - 100, "the first row is on the first screen"
        assert fits_the_width(page, ".toolbar")
        page.screenshot(path=tmp_path / "queue-phone.png")
        page.goto(f"{server.url}/listing?key={confirmed[0]}")
        assert fits_the_width(page, "#evidence")
        assert fits_the_width(page, "h1")
        page.screenshot(path=tmp_path / "listing-phone.png")
    finally:
        context.close()
    for name, size in [("queue-desktop", DESKTOP), ("listing-desktop", DESKTOP), ("queue-phone", PHONE)]:
        with Image.open(tmp_path / f"{name}.png") as picture:
            assert picture.size == (size["width"], size["height"])
            assert len(picture.convert("L").getcolors(maxcolors=1 << 16) or ()) > 20, (
                f"{name} shows something"
            )

    # the confirmed case, and only it, went to ETDA; the file verifies
    result = verify_casefile(out)
    assert result.ok, result
    with zipfile.ZipFile(out) as archive:
        [case] = [json.loads(line) for line in archive.read("cases.jsonl").decode().splitlines()]
    assert case["listing_key"] == confirmed[0]
    assert case["officer_decision"] == "confirmed"
    assert case["decided_by"] == "somchai"
    assert case["case_status"] == "sent"
