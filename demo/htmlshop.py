"""The server-rendered demo shop (html): everything is in the HTML, product pages carry JSON-LD.

Routes: `/robots.txt` (all but /cart), `/sitemap.xml` (a sitemap index above 50,000 products),
`/search?q=&page=N` and `/category/SLUG?page=N` (20 `a.product-link` a page, `a[rel=next]`),
`/product/ID` (JSON-LD Product, `table.spec`, `a.seller`; a removed one answers 404 "สินค้านี้ถูกลบแล้ว"),
`/shop/SELLER_ID`, `/img/ID/N.png`, `/cart`; with the calendar fault (`demo.faults`) the last result page
links on to `/calendar/YYYY/MM`, whose every month links to the next one, for ever.
"""

from __future__ import annotations

from urllib.parse import urlencode

from demo.handler import Reply, Shop, text_reply
from demo.listing import DemoListing
from demo.page import (
    PAGE_SIZE,
    description_block,
    esc,
    gone_page,
    layout,
    missing_page,
    page_number,
    pager,
    result_list,
    script_json,
    spec_table,
)

SITEMAP_LIMIT = 50_000
"""URLs per sitemap file (the sitemaps.org limit); more products give a sitemap index."""


def _href(item_id: str) -> str:
    return f"/product/{item_id}"


class HtmlShop(Shop):
    name = "html"
    title = "ตลาดไทยดีล ThaiDeal"

    def product_id(self, path: str) -> str | None:
        return path.removeprefix("/product/") if path.startswith("/product/") else None

    def route(self, path: str, query: dict[str, str], base_url: str) -> Reply:
        if path == "/":
            return self._home()
        if path == "/robots.txt":
            return text_reply(f"User-agent: *\nDisallow: /cart\n\nSitemap: {base_url}/sitemap.xml\n")
        if path == "/sitemap.xml" or (path.startswith("/sitemap-") and path.endswith(".xml")):
            return self._sitemap(path, base_url)
        if path == "/search":
            q = query.get("q", "")
            return self._results(f"ค้นหา: {q}", "/search", {"q": q}, self.world.search(q), query.get("page"))
        if path.startswith("/category/"):
            slug = path.removeprefix("/category/")
            if slug not in self.world.by_category:
                return Reply(404, missing_page(self.title))
            found = self.world.by_category[slug]
            return self._results(f"หมวดหมู่: {slug}", path, {}, found, query.get("page"))
        if path.startswith("/product/"):
            return self._product(path.removeprefix("/product/"), base_url)
        if path.startswith("/shop/"):
            sold = self.world.by_seller.get(path.removeprefix("/shop/"))
            if not sold:
                return Reply(404, missing_page(self.title))
            return self._results(f"ร้าน {sold[0].seller_name}", path, {}, sold, query.get("page"))
        if path.startswith("/calendar/") and self.state.mill is not None and self.state.mill.rates.calendar:
            return self._calendar(path.removeprefix("/calendar/"), query.get("from", ""))
        if path == "/cart":
            return Reply(200, layout(self.title, "ตะกร้าสินค้า", "<h1>ตะกร้าสินค้า</h1><p>ว่าง</p>"))
        return Reply(404, missing_page(self.title))

    def _home(self) -> Reply:
        links = "".join(
            f'<li><a class="category" href="/category/{esc(slug)}">{esc(slug)}</a> ({len(items)})</li>'
            for slug, items in sorted(self.world.by_category.items())
        )
        body = f"<h1>{esc(self.title)}</h1><h2>หมวดหมู่สินค้า</h2><ul>{links}</ul>"
        return Reply(200, layout(self.title, self.title, body))

    def _results(
        self, heading: str, path: str, params: dict[str, str], found: list[DemoListing], raw_page: str | None
    ) -> Reply:
        page = page_number(raw_page)
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        more = page * PAGE_SIZE < len(found)
        trap = not more and self.state.mill is not None and self.state.mill.rates.calendar
        body = (
            f'<h1>{esc(heading)}</h1><p class="count">พบ {len(found)} รายการ</p>'
            + result_list(chunk, _href)
            + pager(path, params, page, more)
            + (
                f'<a rel="next" class="events" href="/calendar/2026/12?{esc(urlencode({"from": path}))}">'
                "ปฏิทินกิจกรรม</a>"
                if trap
                else ""
            )
        )
        return Reply(200, layout(self.title, f"{heading} | {self.title}", body))

    def _calendar(self, month: str, origin: str) -> Reply:
        """An events calendar with no listings, whose every month links to the next: a crawl trap (one
        for each list of results it is reached from)."""
        year, _, number = month.partition("/")
        if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
            return Reply(404, missing_page(self.title))
        following = (int(year) + int(number) // 12, int(number) % 12 + 1)
        body = (
            f"<h1>ปฏิทินกิจกรรม {esc(year)}-{int(number):02d}</h1><p>ยังไม่มีกิจกรรม</p>"
            f'<a rel="next" href="/calendar/{following[0]}/{following[1]:02d}?{esc(urlencode({"from": origin}))}">'
            "เดือนถัดไป</a>"
        )
        return Reply(200, layout(self.title, f"ปฏิทินกิจกรรม | {self.title}", body))

    def _sitemap(self, path: str, base_url: str) -> Reply:
        linked = self.world.linked
        parts = max(1, -(-len(linked) // SITEMAP_LIMIT))
        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        if path == "/sitemap.xml" and parts > 1:
            entries = "".join(
                f"<sitemap><loc>{base_url}/sitemap-{n}.xml</loc></sitemap>\n" for n in range(1, parts + 1)
            )
            xml = f'{head}<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</sitemapindex>\n'
            return text_reply(xml, content_type="application/xml; charset=utf-8")
        number = 1 if path == "/sitemap.xml" else path.removeprefix("/sitemap-").removesuffix(".xml")
        if not str(number).isdigit() or not 1 <= int(number) <= parts:
            return Reply(404, missing_page(self.title))
        start = (int(number) - 1) * SITEMAP_LIMIT
        urls = "".join(
            f"<url><loc>{base_url}{_href(esc(item.item_id))}</loc></url>\n"
            for item in linked[start : start + SITEMAP_LIMIT]
        )
        xml = f'{head}<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'
        return text_reply(xml, content_type="application/xml; charset=utf-8")

    def _product(self, item_id: str, base_url: str) -> Reply:
        listing, removed = self.world.lookup(item_id)
        if listing is None:
            return Reply(404, gone_page(self.title) if removed else missing_page(self.title))
        url = f"{base_url}{_href(listing.item_id)}"
        data = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": listing.title,
            "description": listing.description,
            "brand": {"@type": "Brand", "name": listing.brand},
            "model": listing.model,
            "sku": listing.item_id,
            "category": listing.category,
            "image": [f"{base_url}{image}" for image in listing.images],
            "url": url,
            "offers": {
                "@type": "Offer",
                "price": listing.price,
                "priceCurrency": listing.currency,
                "availability": "https://schema.org/InStock",
                "url": url,
                "seller": {"@type": "Organization", "name": listing.seller_name},
            },
        }
        head = (
            f'<link rel="canonical" href="{esc(url)}">'
            f'<script type="application/ld+json">{script_json(data)}</script>'
        )
        images = "".join(f'<img src="{esc(image)}" alt="{esc(listing.title)}">' for image in listing.images)
        body = (
            f'<nav class="breadcrumb"><a href="/category/{esc(listing.category)}">'
            f"{esc(listing.category)}</a></nav>"
            f'<article class="product" data-sku="{esc(listing.item_id)}">'
            f'<h1 class="title">{esc(listing.title)}</h1>'
            f'<div class="price" data-currency="{esc(listing.currency)}">฿{esc(listing.price)}</div>'
            f'<div class="brand">ยี่ห้อ: <span>{esc(listing.brand)}</span></div>'
            f'<div class="model">รุ่น: <span>{esc(listing.model)}</span></div>'
            f'<div class="sold-by">ผู้ขาย: <a class="seller" href="/shop/{esc(listing.seller_id)}">'
            f"{esc(listing.seller_name)}</a></div>"
            f'<div class="gallery">{images}</div>'
            f"<h2>รายละเอียดสินค้า</h2>{description_block(listing.description)}"
            f"<h2>ข้อมูลจำเพาะ</h2>{spec_table(listing.spec)}"
            f'<a class="add-to-cart" rel="nofollow" href="/cart?add={esc(listing.item_id)}">หยิบใส่ตะกร้า</a>'
            "</article>"
        )
        return Reply(200, layout(self.title, f"{listing.title} | {self.title}", body, head=head))
