"""The starter profiles of real marketplaces (lazada, shopee) against pages of the same shape, written
for these tests (no internet here): which fields they read, and that a removed listing is gone."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from config import Settings
from crawler.profile import available_profiles, load_profile
from crawler.runner import crawl
from store.db import Store
from store.models import CrawlFailure, Listing, Observation
from tests.crawler.pageserver import Page, PageServer

ITEM, GONE = "4123456789", "4999999999"
SEARCH = """<html><body><div id="root"></div><script>
window.pageData = {mods: {listItems: [
  {itemId: "4123456789", name: "พาวเวอร์แบงค์", productUrl: "/products/powerbank-20000mah-i4123456789-s1234.html"},
  {itemId: "4999999999", name: "ปลั๊กพ่วง", productUrl: "/products/extension-i4999999999-s5678.html"}]}};
setTimeout(() => { document.getElementById("root").innerHTML = window.pageData.mods.listItems.map(
  (item) => '<div data-qa-locator="product-item"><a href="' + item.productUrl + '">' + item.name + '</a></div>'
).join(""); }, 50);
</script></body></html>"""
MODULE = {"data": {"root": {"fields": {
    "product": {"title": "พาวเวอร์แบงค์ Eloop E29 30000mAh มอก. 2879-2560", "desc": "ใบอนุญาต ท1234-56/2879",
                "brand": {"name": "Eloop"}, "model": "E29", "status": "normal"},
    "skuInfos": {"0": {"price": {"salePrice": {"text": "฿1,290 - ฿1,590", "value": 1290}}}},
    "seller": {"name": "Eloop Official Store", "sellerId": "100077", "url": "//www.lazada.co.th/shop/eloop"},
    "skuGalleries": {"0": [{"src": "/img/e29-1.jpg"}, {"src": "/img/e29-2.jpg"}]},
}}}}  # fmt: skip
PRODUCT = f"""<html><body><h1 id="module_product_title_1">…</h1>
<ul class="specification-keys"><li><span class="key-title">ยี่ห้อ</span><div class="key-value">Eloop</div></li>
<li><span class="key-title">มอก.</span><div class="key-value">2879-2560</div></li></ul>
<script>var __moduleData__ = {json.dumps(MODULE, ensure_ascii=False)};</script></body></html>"""
REMOVED = """<html><body><div class="pdp-not-found">ขออภัย สินค้านี้ไม่มีจำหน่ายแล้ว</div>
<script>var __moduleData__ = {data: {root: {fields: {product: {status: "removed"}}}}};</script></body></html>"""


def test_the_starter_profiles_are_shipped_but_not_enabled(crawl_settings: Settings) -> None:
    assert {"lazada", "shopee"} <= set(available_profiles())
    assert not {"lazada", "shopee"} & set(crawl_settings.sites.enabled)


@pytest.mark.browser
def test_lazada_reads_module_data_and_marks_a_removed_listing_gone(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page_server.serve("/catalog/?q=powerbank&page=1", SEARCH)
    page_server.serve("/products/powerbank-20000mah-i4123456789-s1234.html", PRODUCT)
    page_server.serve("/products/extension-i4999999999-s5678.html", REMOVED)
    profile = load_profile("lazada").with_base_url(page_server.base_url)
    profile = profile.model_copy(
        update={"politeness": profile.politeness.model_copy(update={"delay_s": 0.0})}
    )
    [result] = crawl(crawl_settings, [profile], queries=["powerbank"], store=store)
    assert result.status == "finished", result
    with store.session() as session:
        listings = {row.marketplace_id: row for row in session.scalars(select(Listing))}
        [seen] = session.scalars(select(Observation).join(Listing).where(Listing.marketplace_id == ITEM))
        assert seen.title == "พาวเวอร์แบงค์ Eloop E29 30000mAh มอก. 2879-2560"
        assert (seen.brand, seen.model) == ("Eloop", "E29")
        assert (seen.price, seen.currency) == (Decimal("1290"), "THB")  # the lowest of the range
        assert seen.raw["price_range"] == {"low": "1290", "high": "1590"}
        assert seen.spec == {"ยี่ห้อ": "Eloop", "มอก.": "2879-2560"}
        assert (seen.seller_name, seen.seller_id) == ("Eloop Official Store", "100077")
        assert seen.images == [page_server.url("/img/e29-1.jpg"), page_server.url("/img/e29-2.jpg")]
    assert set(listings) == {ITEM}  # the removed listing was never seen alive: not stored
    assert "/products/extension-i4999999999-s5678.html" in page_server.requested  # read, found removed
    assert GONE not in listings


def test_shopee_profile_is_written_to_the_capture_syntax() -> None:
    profile = load_profile("shopee")
    assert (profile.kind, profile.price_scale, profile.currency) == ("browser", 100000, "THB")
    assert profile.fields["price"] == "capture:item.price_min"
    assert profile.capture is not None
    assert (profile.capture.search, profile.capture.item) == (
        "/api/v4/search/search_items",
        "/api/v4/pdp/get_pc",
    )
    assert profile.session is not None
    assert profile.session.browser_profile == "secrets/shopee-chromium"


SHOP, SHOPEE_ITEM, SHOPEE_GONE = "33456", "22812345678", "22899999999"
SHOPEE_SEARCH = """<html><body><div id="main"></div><script>
fetch("/api/v4/search/search_items?by=relevancy&keyword=" + encodeURIComponent(
  new URLSearchParams(location.search).get("keyword")) + "&limit=60&newest=0")
  .then((r) => r.json()).then((d) => { document.getElementById("main").innerHTML = d.items.map((it) =>
    '<div data-sqe="item"><a href="/product/' + it.item_basic.shopid + "/" + it.item_basic.itemid + '">' +
    it.item_basic.name + "</a></div>").join(""); });
</script></body></html>"""
SEARCH_ITEMS = {
    "total_count": 2,
    "nomore": True,
    "items": [
        {
            "item_basic": {
                "itemid": int(SHOPEE_ITEM),
                "shopid": int(SHOP),
                "name": "กาต้มน้ำไฟฟ้า",
                "price": 59000000,
            }
        },
        {
            "item_basic": {
                "itemid": int(SHOPEE_GONE),
                "shopid": int(SHOP),
                "name": "ไดร์เป่าผม",
                "price": 29900000,
            }
        },
    ],
}
SHOPEE_PRODUCT = """<html><body><div id="main"></div><script>
const [, , shop, item] = location.pathname.split("/"), main = document.getElementById("main");
fetch("/api/v4/pdp/get_pc?item_id=" + item + "&shop_id=" + shop).then((r) => r.json()).then((d) => {
  main.innerHTML = d.data ? '<h1 data-sqe="name"></h1>' : '<div class="product-not-exist">ไม่พบสินค้า</div>';
  if (d.data) main.querySelector("h1").textContent = d.data.item.title;
});
</script></body></html>"""
GET_PC = {"error": None, "data": {
    "item": {"item_id": int(SHOPEE_ITEM), "shop_id": int(SHOP), "title": "กาต้มน้ำไฟฟ้า Sharp EKJ-178 1.7 ลิตร",
             "description": "มอก. 366-2547", "brand": "Sharp", "price_min": 59000000, "price_max": 59000000,
             "images": ["th-11134207-7r98o-aaa", "th-11134207-7r98o-bbb"]},
    "shop_detailed": {"shopid": int(SHOP), "name": "Sharp Thailand Official"},
    "product_attributes": {"attrs": [{"name": "ยี่ห้อ", "value": "Sharp"}, {"name": "ความจุ", "value": "1.7 ลิตร"}]},
}}  # fmt: skip
TRAFFIC_CHECK = """<html><body><div class="traffic-check"><h1 data-sqe="name">Verify</h1>
<div class="product-not-exist">ไม่พบสินค้า</div></div></body></html>"""


class TrafficCheckOnce:
    """The first visit of a product page is sent to ``/verify/traffic`` (as Shopee does with a cold session)."""

    def __init__(self) -> None:
        self.sent = False

    def __call__(self, target: str) -> Page | None:
        if target.startswith("/product/") and not self.sent:
            self.sent = True
            return Page(b"", 302, headers={"Location": f"/verify/traffic?is_initial=1&from={target}"})
        if target.startswith("/verify/traffic"):
            return Page(TRAFFIC_CHECK.encode())
        return None


@pytest.mark.browser
def test_shopee_reads_the_json_its_pages_fetch_and_never_parses_its_traffic_check(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page_server.serve("/search?keyword=kettle&page=1", SHOPEE_SEARCH)
    page_server.serve("/api/v4/search/search_items?by=relevancy&keyword=kettle&limit=60&newest=0",
                      json.dumps(SEARCH_ITEMS), content_type="application/json")  # fmt: skip
    for item in (SHOPEE_ITEM, SHOPEE_GONE):
        page_server.serve(f"/product/{SHOP}/{item}", SHOPEE_PRODUCT)
    page_server.serve(f"/api/v4/pdp/get_pc?item_id={SHOPEE_ITEM}&shop_id={SHOP}",
                      json.dumps(GET_PC, ensure_ascii=False), content_type="application/json")  # fmt: skip
    page_server.serve(f"/api/v4/pdp/get_pc?item_id={SHOPEE_GONE}&shop_id={SHOP}",
                      '{"error": 4, "data": null}', content_type="application/json")  # fmt: skip
    page_server.gate = TrafficCheckOnce()
    profile = load_profile("shopee").with_base_url(page_server.base_url)  # its Chromium profile: in data_dir
    profile = profile.model_copy(
        update={"politeness": profile.politeness.model_copy(update={"delay_s": 0.0})}
    )
    [result] = crawl(crawl_settings, [profile], queries=["kettle"], store=store)
    assert result.status == "finished", result
    with store.session() as session:
        listings = {row.marketplace_id: row for row in session.scalars(select(Listing))}
        [seen] = session.scalars(select(Observation).join(Listing))
        assert seen.title == "กาต้มน้ำไฟฟ้า Sharp EKJ-178 1.7 ลิตร"
        assert (seen.price, seen.currency, seen.brand) == (Decimal("590"), "THB", "Sharp")
        assert seen.spec == {"ยี่ห้อ": "Sharp", "ความจุ": "1.7 ลิตร"}
        assert (seen.seller_name, seen.seller_id) == ("Sharp Thailand Official", SHOP)
        # Shopee gives image hashes, not URLs: they are kept in order (the CDN prefix is not added)
        assert [url.rsplit("/", 1)[-1] for url in seen.images] == [
            "th-11134207-7r98o-aaa",
            "th-11134207-7r98o-bbb",
        ]
        failures = [(f.url, f.reason) for f in session.scalars(select(CrawlFailure))]
    # the removed one, read and found gone; the traffic check is no failure (put back, then read)
    assert failures == [
        (page_server.url(f"/product/{SHOP}/{SHOPEE_GONE}"), "HTTP 200: no such listing (never seen before)")
    ]
    assert set(listings) == {SHOPEE_ITEM}  # the itemid; the removed one was never seen alive
    assert listings[SHOPEE_ITEM].url == page_server.url(f"/product/{SHOP}/{SHOPEE_ITEM}")
    assert f"/api/v4/pdp/get_pc?item_id={SHOPEE_GONE}&shop_id={SHOP}" in page_server.requested  # read, gone
    assert any(
        target.startswith("/verify/traffic") for target in page_server.requested
    )  # Chromium went there
    assert result.stats["throttle"]["rescheduled"] >= 1  # a block signal: put back, asked again, not parsed
