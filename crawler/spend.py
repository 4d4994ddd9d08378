"""What a crawl spends: its requests counted against the run's budget, and each search word's cost.

:class:`SpendExtension` counts the page requests that reach the downloader — the same requests as
the run's ``requests`` figure: not retries, not robots.txt, not product images — and, once a budget
(``TISIWATCH_BUDGET``, per worker) is reached, closes the spider with the reason ``budget_spent``. The
requests already handed to the downloader still complete, so a run exceeds its budget by at most what
was in flight (``CONCURRENT_REQUESTS``). Scrapy's ``CLOSESPIDER_PAGECOUNT`` counts responses of every
kind (robots.txt, images, retries), which would spend a budget on what it is not about.

It also tallies, per search word, the result pages and listing pages requested and the listings found
(:class:`WordTagMiddleware` passes a result page's word on to the requests it leads to), and stores
the tallies when the spider closes (``search_words``): the daily plan's estimates and ranking come
from them. A worker killed before it closes loses its tallies; the run's other figures are not affected.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.defer import deferred_from_coro

from crawler.items import Sighting
from crawler.settings import worker_store
from store.planning import WordTally, record_words

log = logging.getLogger(__name__)
REASON = "budget_spent"
"""The finish reason of a crawl that stopped at its budget (a good end: the run finished)."""


def is_page_request(request: Request) -> bool:
    """Whether ``request`` is a page the budget pays for: not a retry, robots.txt or a product image."""
    meta = request.meta
    if meta.get("retry_times") or meta.get("product_image") or meta.get("dont_obey_robotstxt"):
        return False
    return not request.url.split("?", 1)[0].endswith("/robots.txt")


class SpendExtension:
    """Counts page requests against the budget and tallies each search word (see the module doc)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.budget = settings.getint("TISIWATCH_BUDGET", 0)
        self.spent = 0
        self.closing = False
        self.words: dict[str, WordTally] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.requested, signal=signals.request_reached_downloader)
        crawler.signals.connect(extension.scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def tally(self, word: Any) -> WordTally | None:
        if not isinstance(word, str) or not word.strip():
            return None
        return self.words.setdefault(word, WordTally(listing_ids=set()))

    def requested(self, request: Request, spider: Spider) -> None:
        if not is_page_request(request):
            return
        self.spent += 1
        tally = self.tally(request.meta.get("query"))
        if tally is not None:
            if request.meta.get("listing"):
                tally.listing_pages += 1
            else:
                tally.result_pages += 1
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("tisiwatch/budget/spent", self.spent)
        if self.budget and self.spent >= self.budget and not self.closing and self.crawler.engine:
            self.closing = True
            log.info("%s: budget of %d requests spent, closing", spider.name, self.budget)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=REASON))

    def scraped(self, item: Any, response: Response | Any, spider: Spider) -> None:
        """An item of a page (``response``), or of an errback (a Twisted ``Failure``: nothing found)."""
        if not isinstance(response, Response):
            return
        tally = self.tally(response.meta.get("query"))
        if (
            tally is not None
            and isinstance(item, Sighting)
            and not item.gone
            and tally.listing_ids is not None
        ):
            tally.listing_ids.add(item.marketplace_id)

    def closed(self, spider: Spider, reason: str) -> None:
        if not self.words:
            return
        settings = self.crawler.settings
        store = worker_store(settings)
        try:
            with store.session() as session:
                record_words(
                    session,
                    settings.getint("TISIWATCH_RUN_ID"),
                    settings.getint("TISIWATCH_SITE_ID"),
                    settings.get("TISIWATCH_WORKER") or "w0",
                    self.words,
                )
        except Exception:  # the word stats are a plan's hint: losing them must not fail the run
            log.exception("%s: search word stats not stored", spider.name)
        finally:
            store.dispose()


class WordTagMiddleware(BaseSpiderMiddleware):
    """Passes a result page's search word (``meta["query"]``) on to the requests it leads to."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if response is not None and "query" not in request.meta:
            word = response.meta.get("query")
            if word:
                request.meta["query"] = word
        return request
