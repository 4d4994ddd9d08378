"""Fixtures for the demo marketplaces: running shops, an HTTP client that ignores proxies, a page reader."""

from __future__ import annotations

import html
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest

from demo.server import ShopsHandle, start_shops
from demo.tokenshop import page_token

SIZE = 30


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Page:
    """What the tests read from a demo page."""

    product_links: list[str] = field(default_factory=list)
    next_link: str | None = None
    seller_links: list[str] = field(default_factory=list)
    spec: dict[str, str] = field(default_factory=dict)
    json_ld: list[Any] = field(default_factory=list)
    title: str = ""
    ids: set[str] = field(default_factory=set)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._into: str | None = None
        self._text = ""
        self._key = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if "id" in attr:
            self.page.ids.add(attr["id"])
        classes = attr.get("class", "").split()
        if tag == "a" and "product-link" in classes:
            self.page.product_links.append(attr["href"])
        if tag == "a" and "seller" in classes:
            self.page.seller_links.append(attr["href"])
        if tag == "a" and attr.get("rel") == "next":
            self.page.next_link = attr["href"]
        if (tag == "script" and attr.get("type") == "application/ld+json") or tag in ("th", "td", "h1"):
            self._into, self._text = tag, ""

    def handle_data(self, data: str) -> None:
        if self._into:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag != self._into:
            return
        if tag == "script":
            self.page.json_ld.append(json.loads(self._text))
        elif tag == "th":
            self._key = self._text
        elif tag == "td":
            self.page.spec[self._key] = self._text
        elif tag == "h1":
            self.page.title = self._text
        self._into = None


def read_page(text: str) -> Page:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.page


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, method: str = "GET") -> Answer:
    """GET `url` (never through a proxy); an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(url, method=method)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, dict(error.headers), error.read())


def token_item(base_url: str, item_id: str) -> Answer:
    """The token shop's item JSON, called as its page calls it: with the token computed from the
    page's nonce (``demo.tokenshop.page_token``)."""
    page = fetch(f"{base_url}/p/{quote(item_id)}").text
    nonce = html.unescape(page.split('data-nonce="', 1)[1].split('"', 1)[0])
    path = f"/api/v4/item/{quote(item_id)}"
    return fetch(f"{base_url}{path}?nonce={quote(nonce)}&token={page_token(nonce, path)}")


@pytest.fixture(scope="session")
def get() -> Callable[[str], Answer]:
    return fetch


@pytest.fixture(scope="session")
def read() -> Callable[[str], Page]:
    return read_page


@pytest.fixture(scope="module")
def shops() -> Iterator[ShopsHandle]:
    """The shops at size 30, day 1, without faults (a test module's private instance)."""
    with start_shops(seed=7, size=SIZE, day=1, faults=False) as handle:
        yield handle


@pytest.fixture
def faulty_shops() -> Iterator[ShopsHandle]:
    """Fresh shops with faults on, so each one-time fault is still unspent."""
    with start_shops(seed=7, size=SIZE, day=1, faults=True) as handle:
        yield handle
