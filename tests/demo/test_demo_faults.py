"""The demo shops' faults: one product answers 503 once, one 429 once (Retry-After), one linked id 404."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from demo.listing import SHOPS
from demo.server import ShopsHandle

Get = Callable[[str], Any]


def fault_url(shops: ShopsHandle, shop: str, item_id: str) -> str:
    """The product URL the faults apply to: the page (html, browser) or the JSON detail (api)."""
    return shops.api_item_url(item_id) if shop == "api" else shops.product_url(shop, item_id)


def test_one_product_is_unavailable_once_then_fine(faulty_shops: ShopsHandle, get: Get) -> None:
    for shop in SHOPS:
        url = fault_url(faulty_shops, shop, faulty_shops.faults[shop]["unavailable"])
        assert [get(url).status for _ in range(3)] == [503, 200, 200]


def test_one_product_is_rate_limited_once_with_retry_after(faulty_shops: ShopsHandle, get: Get) -> None:
    for shop in SHOPS:
        url = fault_url(faulty_shops, shop, faulty_shops.faults[shop]["rate_limited"])
        first = get(url)
        assert (first.status, first.headers["Retry-After"]) == (429, "1")
        assert get(url).status == 200


def test_a_linked_product_is_missing(faulty_shops: ShopsHandle, get: Get) -> None:
    urls = faulty_shops.urls
    html_missing = faulty_shops.faults["html"]["missing"]
    sitemap = re.findall(r"<loc>[^<]+/product/([^<]+)</loc>", get(f"{urls['html']}/sitemap.xml").text)
    assert html_missing in sitemap
    assert html_missing in get(f"{urls['html']}/search?q=").text
    api_missing = faulty_shops.faults["api"]["missing"]
    assert api_missing in [
        item["id"] for item in get(f"{urls['api']}/api/search?q=&limit=20").json()["items"]
    ]
    browser_missing = faulty_shops.faults["browser"]["missing"]
    found = get(f"{urls['browser']}/data/search.json?q=&page=1").json()["items"]
    assert browser_missing in [item["id"] for item in found]
    for shop in SHOPS:
        missing = get(fault_url(faulty_shops, shop, faulty_shops.faults[shop]["missing"]))
        assert missing.status == 404
        if shop == "html":
            assert "ไม่พบหน้านี้" in missing.text
        if shop == "api":
            assert missing.json()["status"] == "not_found"


def test_faults_fire_again_on_a_new_day(faulty_shops: ShopsHandle, get: Get) -> None:
    url = fault_url(faulty_shops, "html", faulty_shops.faults["html"]["unavailable"])
    assert [get(url).status for _ in range(2)] == [503, 200]
    faulty_shops.set_day(2)
    url = fault_url(faulty_shops, "html", faulty_shops.faults["html"]["unavailable"])
    assert [get(url).status for _ in range(2)] == [503, 200]
