"""Politeness and crawl-trap protection: Retry-After, backoff, robots.txt, denied and looping URLs, paging."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from config import load_settings
from crawler.guard import trap_reason
from crawler.profile import parse_profile
from crawler.retry import BackoffRetryMiddleware, retry_after_seconds
from crawler.settings import scrapy_settings
from crawler.spiders.api import Page, next_page

NOW = datetime(2026, 11, 25, 6, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"1", 1.0),
        ("120", 120.0),
        ("Wed, 25 Nov 2026 06:00:30 GMT", 30.0),
        ("Wed, 25 Nov 2026 05:00:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        (None, None),
        (b"", None),
    ],
)
def test_retry_after_header(header: bytes | str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def _middleware(**settings: object) -> BackoffRetryMiddleware:
    crawler = get_crawler(settings_dict={"TISIWATCH_RETRY_BACKOFF_S": 0.5, "TISIWATCH_RETRY_AFTER_MAX_S": 10,
                                         **settings})  # fmt: skip
    return BackoffRetryMiddleware.from_crawler(crawler)


@pytest.mark.parametrize(
    ("status", "headers", "retries", "delay"),
    [
        (429, {"Retry-After": "3"}, 0, 3.0),
        (503, {"Retry-After": "3"}, 2, 3.0),
        (429, {"Retry-After": "3600"}, 0, 10.0),  # capped by retry_after_max_s
        (503, {}, 0, 0.5),  # no header: exponential backoff
        (503, {}, 3, 4.0),
        (500, {"Retry-After": "3"}, 1, 1.0),  # Retry-After counts only on 429/503
        (502, {}, 20, 60.0),  # backoff capped at a minute
    ],
)
def test_delay_before_a_retry(status: int, headers: dict[str, str], retries: int, delay: float) -> None:
    request = Request("http://shop.test/p1", meta={"retry_times": retries})
    response = Response("http://shop.test/p1", status=status, headers=headers)
    assert _middleware().delay(request, response) == delay


URLS = [
    ("http://shop.test/product/p1", None),
    ("http://shop.test/cart?add=p1", "denied_by_profile"),
    ("http://shop.test/search?q=x&sort=price", "denied_by_profile"),
    ("http://shop.test/a/b/a/b/a/b/a/b", "repeated_path_segment"),
    ("http://shop.test/cal/2026/11/25", None),
    ("http://shop.test/?" + "x" * 3000, "url_too_long"),
]


@pytest.mark.parametrize(("url", "reason"), URLS)
def test_trap_reasons(url: str, reason: str | None) -> None:
    deny = [re.compile("/cart"), re.compile("[?&]sort=")]
    assert trap_reason(url, deny, 2000) == reason


def test_politeness_settings_follow_settings_and_profile() -> None:
    profile = parse_profile(
        'kind = "html"\nbase_url = "https://shop.example"\n[discovery]\nsitemap = "/s.xml"\nmax_result_pages = 40\n'
        "[politeness]\nconcurrency = 2\ndelay_s = 1.5\nobey_robots = false\n",
        "slowshop",
    )
    settings = load_settings(overrides={"crawl": {"concurrency_per_domain": 8}}, environ={})
    composed = scrapy_settings(settings, profile, {"run_id": 1, "site_id": 1}, "sqlite://", 0)
    assert composed["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    assert composed["DOWNLOAD_DELAY"] == 1.5
    assert composed["ROBOTSTXT_OBEY"] is False
    assert composed["AUTOTHROTTLE_ENABLED"] is True
    assert composed["DEPTH_LIMIT"] == 45
    assert composed["DOWNLOADER_MIDDLEWARES"]["crawler.retry.BackoffRetryMiddleware"] == 550
    assert composed["DOWNLOADER_MIDDLEWARES"]["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert "crawler.pipelines.StorePipeline" in composed["ITEM_PIPELINES"]


API = parse_profile(
    'kind = "api"\nbase_url = "https://api.example"\n[discovery]\nsearch_url = "/s?q={query}&cursor={cursor}"\n'
    'items_path = "items"\nitem_url = "/i/{id}"\npaging = "cursor"\ncursor_path = "next"\npage_size = 2\n',
    "cursorshop",
).discovery


def test_cursor_offset_and_page_paging() -> None:
    first = Page(1, 0, "")
    assert next_page(first, {"items": [1, 2], "next": "abc"}, 2, API) == Page(2, 2, "abc")
    assert next_page(first, {"items": [1, 2], "next": None}, 2, API) is None
    offset = API.model_copy(update={"paging": "offset", "total_path": "total"})
    assert next_page(first, {"total": 5}, 2, offset) == Page(2, 2, "")
    assert next_page(Page(3, 4, ""), {"total": 5}, 1, offset) is None
    no_total = API.model_copy(update={"paging": "page", "total_path": ""})
    assert next_page(first, {}, 2, no_total) == Page(2, 2, "")  # a full page: there may be more
    assert next_page(first, {}, 1, no_total) is None  # a short page is the last
    assert next_page(first, {}, 0, no_total) is None
