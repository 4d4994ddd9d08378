"""HTML building blocks shared by the demo shops; every value that came from a listing is escaped."""

from __future__ import annotations

import html
import json
import struct
import zlib
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from demo.listing import DemoListing

PAGE_SIZE = 20


def esc(text: str) -> str:
    """`text` escaped for HTML text and attribute values."""
    return html.escape(text, quote=True)


def layout(shop_title: str, title: str, body: str, head: str = "", status_line: str = "") -> bytes:
    """A whole page: the shop's header with its search box, then `body`."""
    return (
        "<!doctype html>\n"
        f'<html lang="th"><head><meta charset="utf-8"><title>{esc(title)}</title>{head}</head>\n'
        f'<body><header><a class="home" href="/">{esc(shop_title)}</a>'
        '<form action="/search" method="get"><input name="q" placeholder="ค้นหาสินค้า">'
        f"<button>ค้นหา</button></form>{status_line}</header>\n"
        f"<main>{body}</main>\n"
        "<footer>ร้านค้าจำลองสำหรับการสาธิต (demo marketplace)</footer></body></html>\n"
    ).encode()


def gone_page(shop_title: str) -> bytes:
    """The page of a listing the seller took down."""
    body = '<h1 class="removed">สินค้านี้ถูกลบแล้ว</h1><p>This listing has been removed.</p>'
    return layout(shop_title, "สินค้านี้ถูกลบแล้ว", body)


def missing_page(shop_title: str) -> bytes:
    """The page of an address the shop does not know."""
    return layout(shop_title, "ไม่พบหน้านี้", '<h1 class="not-found">ไม่พบหน้านี้ (404)</h1>')


def spec_table(spec: dict[str, str]) -> str:
    rows = "".join(f"<tr><th>{esc(key)}</th><td>{esc(value)}</td></tr>" for key, value in spec.items())
    return f'<table class="spec">{rows}</table>'


def description_block(text: str) -> str:
    return '<div class="description">' + "<br>\n".join(esc(line) for line in text.split("\n")) + "</div>"


def result_list(listings: Iterable[DemoListing], href: Callable[[str], str]) -> str:
    """Search or category results: one `a.product-link` per listing, with its price."""
    items = "".join(
        f'<li class="result"><a class="product-link" href="{esc(href(listing.item_id))}">{esc(listing.title)}'
        f'</a> <span class="price">฿{esc(listing.price)}</span></li>'
        for listing in listings
    )
    return f'<ul class="results">{items}</ul>'


def pager(path: str, params: dict[str, str], page: int, has_next: bool) -> str:
    """Previous/next links; the next one carries rel="next"."""
    links = []
    if page > 1:
        links.append(
            f'<a rel="prev" href="{esc(path)}?{esc(urlencode({**params, "page": page - 1}))}">ก่อนหน้า</a>'
        )
    if has_next:
        links.append(
            f'<a rel="next" href="{esc(path)}?{esc(urlencode({**params, "page": page + 1}))}">ถัดไป</a>'
        )
    return f'<nav class="pager">{" ".join(links)}</nav>'


def script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element (no `<`, `>` or `&` can end it early)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_number(raw: str | None) -> int:
    """The page asked for; anything that is not a positive number means the first page."""
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else 1


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


PRODUCT_IMAGE = _png(8, 8, (230, 230, 240))
"""The picture every product image URL answers with (a small grey PNG)."""
