"""Crawl-trap protection: requests a crawl must never make are dropped before they are scheduled.

Dropped, and counted in the run's stats by reason: URLs the profile denies (carts, calendars,
sort/filter links), URLs longer than ``TISIWATCH_MAX_URL_LENGTH``, URLs whose path repeats a segment
(``/a/b/a/b/a/b`` — relative-link loops), and result pages beyond ``discovery.max_result_pages`` per
search word or category. Scrapy's DEPTH_LIMIT bounds every other chain of links.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

MAX_SEGMENT_REPEATS = 3


def trap_reason(url: str, deny: Iterable[re.Pattern[str]], max_length: int) -> str | None:
    """Why ``url`` must not be requested, or None."""
    if len(url) > max_length:
        return "url_too_long"
    if any(pattern.search(url) for pattern in deny):
        return "denied_by_profile"
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    if segments and max(Counter(segments).values()) > MAX_SEGMENT_REPEATS:
        return "repeated_path_segment"
    return None


class TrapGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_length = crawler.settings.getint("TISIWATCH_MAX_URL_LENGTH", 2000)
        self._deny: list[re.Pattern[str]] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _patterns(self, spider: Spider | None) -> list[re.Pattern[str]]:
        if self._deny is None:
            profile = getattr(spider, "profile", None)
            self._deny = [re.compile(p) for p in profile.discovery.deny] if profile is not None else []
        return self._deny

    def _keep(self, item: Any) -> bool:
        if not isinstance(item, Request):
            return True
        spider = self.crawler.spider
        reason = trap_reason(item.url, self._patterns(spider), self.max_length)
        profile = getattr(spider, "profile", None)
        page = item.meta.get("result_page", 0)
        if reason is None and profile is not None and page > profile.discovery.max_result_pages:
            reason = "too_many_result_pages"
        if reason is None:
            return True
        if self.crawler.stats:
            self.crawler.stats.inc_value(f"tisiwatch/trap/{reason}")
        return False

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        return (item for item in result if self._keep(item))

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for item in result:
            if self._keep(item):
                yield item
