"""The browser shop in a real browser (Debian's Chromium through Playwright): the scripts build the pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo import generate
from demo.server import ShopsHandle

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser.new_page()
        browser.close()


def test_search_renders_results_and_loads_more_until_the_end(shops: ShopsHandle, browser_page: Any) -> None:
    browser_page.goto(shops.urls["browser"] + "/search?q=")
    browser_page.wait_for_selector("a.product-link")
    assert browser_page.locator("a.product-link").count() == 20
    browser_page.click("#load-more")
    browser_page.wait_for_function("document.querySelectorAll('a.product-link').length > 20")
    assert browser_page.locator("a.product-link").count() == shops.size
    assert browser_page.locator("#load-more").count() == 0


def test_product_page_renders_title_price_seller_and_spec(shops: ShopsHandle, browser_page: Any) -> None:
    listing = next(
        x for x in generate(shops.seed, shops.size) if x.shop == "browser" and "markup_in_title" in x.tricks
    )
    browser_page.goto(shops.product_url("browser", listing.item_id))
    browser_page.wait_for_selector("h1.title")
    assert browser_page.locator("h1.title").inner_text() == listing.title
    assert browser_page.locator(".price").inner_text() == f"฿{listing.price}"
    assert browser_page.locator("a.seller").inner_text() == listing.seller_name
    assert browser_page.locator("table.spec tr").count() == len(listing.spec)
    assert browser_page.locator("script:not([src])").count() == 1
