"""The demo shops over real HTTP: robots, search paging, categories, sitemap, product pages, API."""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest

from demo import DemoListing, generate
from demo.server import ShopsHandle

Get = Callable[[str], Any]
Read = Callable[[str], Any]
SIZE = 30  # the `shops` fixture's size


def listings(shop: str) -> list[DemoListing]:
    return [x for x in generate(seed=7, size=SIZE) if x.shop == shop]


def matching(shop: str, query: str) -> list[str]:
    return [x.item_id for x in listings(shop) if query.lower() in f"{x.title}\n{x.description}".lower()]


def walk(get: Get, read: Read, url: str) -> list[str]:
    """Follow rel=next from `url`; the product links of every page, in order."""
    links: list[str] = []
    next_url: str | None = url
    while next_url:
        answer = get(next_url)
        assert answer.status == 200
        page = read(answer.text)
        links += page.product_links
        next_url = urljoin(next_url, page.next_link) if page.next_link else None
    return links


def test_every_shop_has_robots_and_a_host_of_its_own(shops: ShopsHandle, get: Get) -> None:
    assert (shops.seed, shops.size, shops.day) == (7, SIZE, 1)
    hosts = {urlsplit(url).hostname for url in shops.urls.values()}
    assert hosts == {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}
    for url in shops.urls.values():
        robots = get(f"{url}/robots.txt")
        assert robots.status == 200
        assert "Disallow: /cart" in robots.text


@pytest.mark.parametrize("query", ["", "พาวเวอร์แบงค์", "มอก"])
def test_html_search_pages_through_all_matches(shops: ShopsHandle, get: Get, read: Read, query: str) -> None:
    links = walk(get, read, f"{shops.urls['html']}/search?q={quote(query)}")
    assert links == [f"/product/{item}" for item in matching("html", query)]
    first = read(get(f"{shops.urls['html']}/search?q={quote(query)}&page=1").text)
    assert len(first.product_links) == min(20, len(links))


def test_html_categories_and_sitemap_list_every_product(shops: ShopsHandle, get: Get, read: Read) -> None:
    base = shops.urls["html"]
    sitemap = get(f"{base}/sitemap.xml")
    assert sitemap.headers["Content-Type"].startswith("application/xml")
    located = re.findall(r"<loc>([^<]+)</loc>", sitemap.text)
    assert located == [f"{base}/product/{x.item_id}" for x in listings("html")]
    home = get(f"{base}/").text
    categories = sorted(set(re.findall(r'href="(/category/[^"]+)"', home)))
    assert categories == sorted({f"/category/{x.category}" for x in listings("html")})
    found = [link for path in categories for link in walk(get, read, base + path)]
    assert sorted(found) == sorted(f"/product/{x.item_id}" for x in listings("html"))
    assert get(f"{base}/category/no-such-thing").status == 404


def test_html_product_page_has_json_ld_spec_table_and_seller(
    shops: ShopsHandle, get: Get, read: Read
) -> None:
    for listing in listings("html"):
        answer = get(shops.product_url("html", listing.item_id))
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        page = read(answer.text)
        (product,) = page.json_ld
        assert product["@type"] == "Product"
        assert (product["name"], product["description"], product["sku"]) == (
            listing.title, listing.description, listing.item_id
        )  # fmt: skip
        assert (product["brand"]["name"], product["model"]) == (listing.brand, listing.model)
        offer = product["offers"]
        assert (offer["price"], offer["priceCurrency"]) == (listing.price, "THB")
        assert offer["availability"] == "https://schema.org/InStock"
        assert offer["seller"]["name"] == listing.seller_name
        assert page.spec == listing.spec
        assert page.title == listing.title
        assert page.seller_links == [f"/shop/{listing.seller_id}"]
        if "markup_in_title" in listing.tricks:
            assert "<script>alert" not in answer.text
            assert "&lt;" in answer.text or "&amp;" in answer.text
    image = get(f"{shops.urls['html']}{listings('html')[0].images[0]}")
    assert (image.headers["Content-Type"], image.body[:4]) == ("image/png", b"\x89PNG")
    assert get(shops.product_url("html", "999999999")).status == 404


def test_a_connection_is_kept_alive(shops: ShopsHandle) -> None:
    parts = urlsplit(shops.urls["html"])
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        for listing in listings("html")[:3]:
            connection.request("GET", f"/product/{listing.item_id}")
            response = connection.getresponse()
            assert response.status == 200
            assert listing.item_id in response.read().decode()
            assert response.getheader("Connection") != "close"
    finally:
        connection.close()


@pytest.mark.parametrize(("query", "limit"), [("", 7), ("ปลั๊ก", 3), ("no such product", 20)])
def test_api_search_pages_by_offset(shops: ShopsHandle, get: Get, query: str, limit: int) -> None:
    base, offset, found = shops.urls["api"], 0, []
    while True:
        answer = get(f"{base}/api/search?q={quote(query)}&offset={offset}&limit={limit}").json()
        assert answer["total"] == len(matching("api", query))
        assert answer["offset"] == offset
        assert len(answer["items"]) <= limit
        found += answer["items"]
        offset += limit
        if offset >= answer["total"]:
            break
    assert [item["id"] for item in found] == matching("api", query)
    assert all(item["url"] == shops.product_url("api", item["id"]) for item in found)
    assert get(f"{base}/api/search?q=&offset=0&limit=1000").status == 400
    assert get(f"{base}/api/search?q=&offset=-1").status == 400


def test_api_item_detail_and_human_page(shops: ShopsHandle, get: Get, read: Read) -> None:
    for listing in listings("api"):
        detail = get(shops.api_item_url(listing.item_id)).json()
        assert detail["status"] == "active"
        assert (detail["id"], detail["title"], detail["description"]) == (
            listing.item_id, listing.title, listing.description
        )  # fmt: skip
        assert (detail["brand"], detail["model"]) == (listing.brand, listing.model)
        assert detail["price"] == {"amount": listing.price, "currency": "THB"}
        assert (detail["seller"]["id"], detail["seller"]["name"]) == (listing.seller_id, listing.seller_name)
        assert {row["name"]: row["value"] for row in detail["specs"]} == listing.spec
        assert detail["url"] == shops.product_url("api", listing.item_id)
        page = read(get(detail["url"]).text)
        assert (page.title, page.spec) == (listing.title, listing.spec)
    missing = get(shops.api_item_url("SKU-999999"))
    assert (missing.status, missing.json()["status"]) == (404, "not_found")


def test_browser_shop_shows_nothing_without_javascript(shops: ShopsHandle, get: Get, read: Read) -> None:
    base = shops.urls["browser"]
    for path in ("/", "/search?q=พาวเวอร์แบงค์"):
        shell = get(base + quote(path, safe="/?=&"))
        page = read(shell.text)
        assert {"results", "load-more"} <= page.ids
        assert not page.product_links
        assert 'fetch(url + "&page="' in shell.text
    for listing in listings("browser"):
        shell = get(shops.product_url("browser", listing.item_id)).text
        assert listing.title not in shell
        assert listing.seller_name not in shell
        assert 'class="spec"' not in shell


def test_browser_data_endpoints_feed_the_pages(shops: ShopsHandle, get: Get) -> None:
    base, page, found = shops.urls["browser"], 1, []
    while True:
        answer = get(f"{base}/data/search.json?q=&page={page}").json()
        assert answer["total"] == SIZE
        found += answer["items"]
        if not answer["has_more"]:
            break
        page += 1
    assert page == 2
    assert [item["url"] for item in found] == [f"/p/{x.item_id}" for x in listings("browser")]
    for listing in listings("browser"):
        detail = get(f"{base}/data/item/{listing.item_id}.json").json()
        assert (detail["title"], detail["price"], detail["seller"]["name"]) == (
            listing.title, listing.price, listing.seller_name
        )  # fmt: skip
        assert {row["name"]: row["value"] for row in detail["specs"]} == listing.spec
    assert get(f"{base}/data/item/nothing.json").status == 404
    assert get(shops.product_url("browser", "nothing")).status == 404
