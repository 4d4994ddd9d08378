"""The embedded-state demo shop (state): server-rendered, but its data sits in a script, not in the markup.

Shaped like the marketplaces whose pages carry a JavaScript object (``window.__INITIAL_STATE__ = {...}``,
with unquoted keys, as a script writes it) from which the page is drawn: the product's title,
description, brand, model, seller, pictures and price are in that object only. Prices are integers in
hundred-thousandths of a baht (``129000000`` for ฿1,290.00), and a listing with variants gives a range
(``{min: …, max: …}``, the lowest its price). The spec table is a ``dl.specs`` of ``dt``/``dd`` in the
page. A removed listing answers 200 with a "not found" notice and ``pdp.status: 'removed'`` in its state.

Routes: `/robots.txt` (all but /cart), `/sitemap.xml`, `/catalog?q=&page=N` (20 `a.item-link` a page,
`a[rel=next]`), `/products/iID.html`, `/img/ID/N.png`, `/cart`; an unknown product id answers 404.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from demo.handler import Reply, Shop, text_reply
from demo.listing import DemoListing, product_path
from demo.page import PAGE_SIZE, esc, layout, missing_page, page_number, pager

PRICE_SCALE = 100_000
"""The shop writes prices in hundred-thousandths of a baht."""
STATE_VARIABLE = "window.__INITIAL_STATE__"
_PRODUCT = re.compile(r"^/products/i([^/]+)\.html$")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")


def js_literal(value: Any) -> str:
    """``value`` as a JavaScript object literal a page script would write: identifier keys unquoted,
    strings JSON-quoted with ``<``, ``>`` and ``&`` escaped, so no text can end the script early."""
    if isinstance(value, dict):
        keys = (key if _IDENTIFIER.match(key) else _js_string(key) for key in value)
        return (
            "{"
            + ", ".join(f"{key}: {js_literal(item)}" for key, item in zip(keys, value.values(), strict=True))
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(js_literal(item) for item in value) + "]"
    if isinstance(value, str):
        return _js_string(value)
    return json.dumps(value)


def _js_string(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def scaled_price(price: str) -> int:
    """A price (``"1290.00"``) as the shop writes it: an integer of hundred-thousandths."""
    return int(Decimal(price) * PRICE_SCALE)


def price_state(listing: DemoListing) -> int | dict[str, int]:
    """Every third listing has variants: a range from its price up; the others one scaled price."""
    low = scaled_price(listing.price)
    if listing.item_id.isdigit() and int(listing.item_id) % 3 == 0:
        return {"min": low, "max": low + scaled_price("200.00")}
    return low


def _href(item_id: str) -> str:
    return product_path("state", item_id)


class StateShop(Shop):
    name = "state"
    title = "ช้อปรวมมิตร RuamMit Mall"

    def product_id(self, path: str) -> str | None:
        match = _PRODUCT.match(path)
        return match.group(1) if match else None

    def route(self, path: str, query: dict[str, str], base_url: str) -> Reply:
        if path == "/robots.txt":
            return text_reply(f"User-agent: *\nDisallow: /cart\n\nSitemap: {base_url}/sitemap.xml\n")
        if path == "/sitemap.xml":
            urls = "".join(
                f"<url><loc>{base_url}{esc(_href(item.item_id))}</loc></url>\n" for item in self.world.linked
            )
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'
            )
            return text_reply(xml, content_type="application/xml; charset=utf-8")
        if path in ("/", "/catalog", "/search"):
            return self._results(query.get("q", ""), query.get("page"))
        item_id = self.product_id(path)
        if item_id is not None:
            return self._product(item_id)
        if path == "/cart":
            return Reply(200, layout(self.title, "ตะกร้าสินค้า", "<h1>ตะกร้าสินค้า</h1>"))
        return Reply(404, missing_page(self.title))

    def _results(self, q: str, raw_page: str | None) -> Reply:
        found, page = self.world.search(q), page_number(raw_page)
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        items = "".join(
            f'<li class="card"><a class="item-link" href="{esc(_href(item.item_id))}">{esc(item.title)}</a></li>'
            for item in chunk
        )
        params = {"q": q} if q else {}
        body = (
            f'<h1>ค้นหา: {esc(q)}</h1><p class="count">พบ {len(found)} รายการ</p><ul class="cards">{items}</ul>'
            + pager("/catalog", params, page, page * PAGE_SIZE < len(found))
        )
        return Reply(200, layout(self.title, f"{q or 'สินค้าทั้งหมด'} | {self.title}", body))

    def _product(self, item_id: str) -> Reply:
        listing, removed = self.world.lookup(item_id)
        if listing is None and not removed:
            return Reply(404, missing_page(self.title))
        if listing is None:
            state: dict[str, Any] = {"pdp": {"status": "removed", "itemId": item_id, "item": None}}
            body = '<div class="item-not-found"><h1>ขออภัย ไม่พบสินค้านี้</h1><p>สินค้าอาจถูกลบไปแล้ว</p></div>'
            return Reply(200, self._page("ไม่พบสินค้า", body, state))
        item = {
            "itemId": listing.item_id,
            "title": listing.title,
            "desc": listing.description,
            "brand": {"name": listing.brand},
            "model": listing.model,
            "price": price_state(listing),
            "currency": listing.currency,
            "images": list(listing.images),
            "category": listing.category,
        }
        seller = {
            "sellerId": listing.seller_id,
            "name": listing.seller_name,
            "url": f"/shop/{listing.seller_id}",
        }
        state = {"pdp": {"status": "active", "item": item, "seller": seller}}
        specs = "".join(f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>" for key, value in listing.spec.items())
        body = (
            '<div id="pdp"><h1 class="pdp-title">…</h1>'  # the page's script fills it from the state
            f'<section class="specification"><h2>ข้อมูลจำเพาะ</h2><dl class="specs">{specs}</dl></section></div>'
        )
        return Reply(200, self._page(listing.title, body, state))

    def _page(self, title: str, body: str, state: dict[str, Any]) -> bytes:
        script = f"<script>{STATE_VARIABLE} = {js_literal(state)};</script>"
        return layout(self.title, f"{title} | {self.title}", body + script)
