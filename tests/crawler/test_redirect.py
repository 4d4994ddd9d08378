"""Redirect loops end as recorded failures: Scrapy alone drops a redirect back to a URL it fetched."""

from __future__ import annotations

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from config import load_settings
from crawler.profile import load_profile
from crawler.redirect import LoopRedirectMiddleware
from crawler.settings import politeness


def _hop(middleware: LoopRedirectMiddleware, request: Request, location: str) -> Request | Response:
    return middleware.process_response(
        request, Response(request.url, status=302, headers={"Location": location})
    )


def test_a_redirect_back_into_its_own_chain_is_refused_naming_the_loop() -> None:
    middleware = LoopRedirectMiddleware.from_crawler(get_crawler())
    first = Request("http://shop.test/product/1")
    second = _hop(middleware, first, "/product/1?loop=1")
    assert isinstance(second, Request)
    assert second.url == "http://shop.test/product/1?loop=1"
    with pytest.raises(IgnoreRequest, match="redirect loop: http://shop.test/product/1 → "
                       r"http://shop.test/product/1\?loop=1 → http://shop.test/product/1$"):  # fmt: skip
        _hop(middleware, second, "/product/1")


def test_a_chain_of_redirects_without_a_loop_is_followed() -> None:
    middleware = LoopRedirectMiddleware.from_crawler(get_crawler())
    request = Request("http://shop.test/p/1")
    for location in ("/p/2", "/p/3", "/p/4"):
        hop = _hop(middleware, request, location)
        assert isinstance(hop, Request)
        request = hop
    assert request.meta["redirect_urls"] == [
        "http://shop.test/p/1",
        "http://shop.test/p/2",
        "http://shop.test/p/3",
    ]


def test_the_crawl_uses_it_in_place_of_scrapys_redirect_middleware() -> None:
    middlewares = politeness(load_settings(environ={}), load_profile("demo-html"))["DOWNLOADER_MIDDLEWARES"]
    assert middlewares["scrapy.downloadermiddlewares.redirect.RedirectMiddleware"] is None
    assert middlewares["crawler.redirect.LoopRedirectMiddleware"] == 600
