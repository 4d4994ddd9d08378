"""Switching the demo shops to day 2: removed listings answer 404 (the state shop: 200 with a notice),
new ones appear, one is mended."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from demo import generate
from demo.listing import SHOPS
from demo.server import ShopsHandle
from tests.demo.conftest import token_item

Get = Callable[[str], Any]


def test_day_two_on_the_same_ports(shops: ShopsHandle, get: Get) -> None:
    day_two = generate(seed=shops.seed, size=shops.size, day=2)
    removed = [x for x in day_two if x.removed_on_day == 2]
    added = [x for x in day_two if x.added_on_day == 2]
    fixed = [x for x in day_two if "fixed" in x.tricks]
    assert {x.shop for x in removed} == {x.shop for x in added} == {x.shop for x in fixed} == set(SHOPS)
    for listing in removed:
        assert get(shops.product_url(listing.shop, listing.item_id)).status == 200
    for listing in added:
        assert get(shops.product_url(listing.shop, listing.item_id)).status == 404
    urls = dict(shops.urls)

    shops.set_day(2)
    assert (shops.urls, shops.day) == (urls, 2)
    for listing in removed:
        page = get(shops.product_url(listing.shop, listing.item_id))
        assert page.status == (200 if listing.shop in ("state", "token") else 404)
        if listing.shop == "state":
            assert "ไม่พบสินค้านี้" in page.text
            assert 'status: "removed"' in page.text
        if listing.shop == "html":
            assert "สินค้านี้ถูกลบแล้ว" in page.text
        if listing.shop == "api":
            gone = get(shops.api_item_url(listing.item_id))
            assert (gone.status, gone.json()["status"]) == (404, "removed")
        if listing.shop == "browser":
            assert get(f"{urls['browser']}/data/item/{listing.item_id}.json").json()["status"] == "removed"
        if listing.shop == "token":
            assert token_item(urls["token"], listing.item_id).json()["error_msg"] == "product not found"
    for listing in added:
        assert get(shops.product_url(listing.shop, listing.item_id)).status == 200
    for listing in fixed:
        assert listing.expected_licence_no is not None
        if listing.shop == "browser":
            text = get(f"{urls['browser']}/data/item/{listing.item_id}.json").text
        elif listing.shop == "token":
            text = token_item(urls["token"], listing.item_id).text
        else:
            text = get(shops.product_url(listing.shop, listing.item_id)).text
        assert listing.expected_licence_no in text
    sitemap = set(re.findall(r"/product/([^<]+)</loc>", get(f"{urls['html']}/sitemap.xml").text))
    assert sitemap == {x.item_id for x in day_two if x.shop == "html" and x.removed_on_day is None}
    total = get(f"{urls['api']}/api/search?q=&limit=1").json()["total"]
    assert total == sum(1 for x in day_two if x.shop == "api" and x.removed_on_day is None)

    shops.set_day(1)
    for listing in removed:
        assert get(shops.product_url(listing.shop, listing.item_id)).status == 200
