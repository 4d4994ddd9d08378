"""Retries that wait: Scrapy's RetryMiddleware, plus a pause before each retry.

A 429 or 503 that says ``Retry-After`` (seconds or an HTTP date) waits that long, capped by
``crawl.retry_after_max_s``; every other retry waits ``crawl.retry_backoff_s`` × 2^(retries so far),
capped at a minute. The wait is asynchronous: other requests go on meanwhile.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response

BACKOFF_CAP_S = 60.0


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds; None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that honours Retry-After on 429/503 and backs off exponentially otherwise."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.backoff_s = crawler.settings.getfloat("TISIWATCH_RETRY_BACKOFF_S", 0.5)
        self.retry_after_max_s = crawler.settings.getfloat("TISIWATCH_RETRY_AFTER_MAX_S", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def delay(self, request: Request, response: Response | None) -> float:
        """How long to wait before retrying ``request``."""
        if response is not None and response.status in (429, 503):
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
            if asked is not None:
                if self.crawler.stats:
                    self.crawler.stats.inc_value("tisiwatch/retry_after_honoured")
                return min(asked, self.retry_after_max_s)
        retries = request.meta.get("retry_times", 0)
        return min(self.backoff_s * 2**retries, BACKOFF_CAP_S)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await asyncio.sleep(self.delay(request, response))
        return result

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(self.delay(request, None))
        return result
