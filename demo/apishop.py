"""The JSON-API demo shop (api).

Routes: `/api/search?q=&offset=N&limit=M` → {"total", "offset", "limit", "items": [{"id", "title", "price",
"url"}]} (an empty q lists everything; limit 1..100), `/api/items/ID` → the detail (404 {"status": "removed"}
once removed), `/item/ID` the human page, `/seller/ID`, `/img/ID/N.png`, `/robots.txt`.
"""

from __future__ import annotations

from typing import Any

from demo.handler import Reply, Shop, json_reply, text_reply
from demo.listing import DemoListing
from demo.page import description_block, esc, gone_page, layout, missing_page, result_list, spec_table

MAX_LIMIT = 100


def _number(raw: str | None, default: int) -> int | None:
    """A non-negative whole number from the query, `default` when absent, None when malformed."""
    if raw is None or raw == "":
        return default
    return int(raw) if raw.isdigit() else None


class ApiShop(Shop):
    name = "api"
    title = "ช้อปด่วน ShopDuan"

    def product_id(self, path: str) -> str | None:
        return path.removeprefix("/api/items/") if path.startswith("/api/items/") else None

    def route(self, path: str, query: dict[str, str], base_url: str) -> Reply:
        if path == "/robots.txt":
            return text_reply("User-agent: *\nDisallow: /cart\n")
        if path == "/":
            body = (
                f"<h1>{esc(self.title)}</h1><p>API: <code>/api/search?q=&amp;offset=0&amp;limit=20</code>, "
                "<code>/api/items/ID</code></p>"
            )
            return Reply(200, layout(self.title, self.title, body))
        if path == "/api/search":
            return self._search(query, base_url)
        if path.startswith("/api/items/"):
            return self._detail(path.removeprefix("/api/items/"), base_url)
        if path.startswith("/item/"):
            return self._page(path.removeprefix("/item/"))
        if path.startswith("/seller/"):
            found = self.world.by_seller.get(path.removeprefix("/seller/"))
            if not found:
                return Reply(404, missing_page(self.title))
            body = f"<h1>ร้าน {esc(found[0].seller_name)}</h1>" + result_list(found, lambda i: f"/item/{i}")
            return Reply(200, layout(self.title, found[0].seller_name, body))
        return Reply(404, missing_page(self.title))

    def _search(self, query: dict[str, str], base_url: str) -> Reply:
        offset, limit = _number(query.get("offset"), 0), _number(query.get("limit"), 20)
        if offset is None or limit is None or not 1 <= limit <= MAX_LIMIT:
            return json_reply({"error": f"offset must be >= 0 and limit 1..{MAX_LIMIT}"}, 400)
        found = self.world.search(query.get("q", ""))
        items = [
            {
                "id": item.item_id,
                "title": item.title,
                "price": item.price,
                "url": f"{base_url}/item/{item.item_id}",
            }
            for item in found[offset : offset + limit]
        ]
        return json_reply({"total": len(found), "offset": offset, "limit": limit, "items": items})

    def _detail(self, item_id: str, base_url: str) -> Reply:
        listing, removed = self.world.lookup(item_id)
        if listing is None:
            return json_reply({"id": item_id, "status": "removed" if removed else "not_found"}, 404)
        return json_reply(_detail(listing, base_url))

    def _page(self, item_id: str) -> Reply:
        listing, removed = self.world.lookup(item_id)
        if listing is None:
            return Reply(404, gone_page(self.title) if removed else missing_page(self.title))
        body = (
            f'<article class="item" data-id="{esc(listing.item_id)}">'
            f'<h1 class="title">{esc(listing.title)}</h1>'
            f'<div class="price">฿{esc(listing.price)}</div>'
            f'<a class="seller" href="/seller/{esc(listing.seller_id)}">{esc(listing.seller_name)}</a>'
            + "".join(f'<img src="{esc(image)}" alt="">' for image in listing.images)
            + description_block(listing.description)
            + spec_table(listing.spec)
            + "</article>"
        )
        return Reply(200, layout(self.title, listing.title, body))


def _detail(listing: DemoListing, base_url: str) -> dict[str, Any]:
    return {
        "id": listing.item_id,
        "title": listing.title,
        "description": listing.description,
        "brand": listing.brand,
        "model": listing.model,
        "category": listing.category,
        "price": {"amount": listing.price, "currency": listing.currency},
        "seller": {
            "id": listing.seller_id,
            "name": listing.seller_name,
            "url": f"{base_url}/seller/{listing.seller_id}",
        },
        "specs": [{"name": name, "value": value} for name, value in listing.spec.items()],
        "images": [f"{base_url}{image}" for image in listing.images],
        "url": f"{base_url}/item/{listing.item_id}",
        "status": "active",
    }
