"""Item pipelines: validate what spiders yield, then store it in batches.

``ValidationPipeline`` drops invalid sightings (counted by reason, recorded as failures);
``StorePipeline`` upserts listings and appends observations, and closes the run with its stats.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import FailedUrl, Sighting
from store.db import Store
from store.models import Site
from store.writer import finish_run, record_failure, store_sightings

LICENCE_TEXT = re.compile(r"มอก|ม\s*\.?\s*อ\s*\.?\s*ก|ใบอนุญาต|\bTIS\b|licen[cs]e", re.IGNORECASE)
MAX_TITLE = 20_000
MAX_DESCRIPTION = 200_000


def problem_with(item: Sighting) -> str | None:
    """Why a sighting cannot be stored, or None when it is fine."""
    if not item.marketplace_id or len(item.marketplace_id) > 200:
        return "listing id missing or longer than 200 characters"
    if not item.url.startswith(("http://", "https://")):
        return "listing URL is not http(s)"
    if item.gone:
        return None
    if not item.title.strip():
        return "no title"
    if len(item.title) > MAX_TITLE or len(item.description) > MAX_DESCRIPTION:
        return "title or description too long"
    return None


class ValidationPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Sighting):
            problem = problem_with(item)
            if problem:
                assert self.stats is not None
                self.stats.inc_value(f"tisiwatch/invalid/{problem}")
                raise DropItem(f"invalid listing {item.url}: {problem}")
        return item


class StorePipeline:
    """Writes sightings and failed URLs to the store, ``batch_size`` at a time."""

    def __init__(
        self, crawler: Crawler, database_url: str, run_id: int, site_id: int, batch_size: int
    ) -> None:
        self.crawler = crawler
        self.store = Store(database_url)
        self.run_id = run_id
        self.site_id = site_id
        self.batch_size = batch_size
        self.pending: list[Sighting] = []
        self.failures: list[FailedUrl] = []
        self.coverage: Counter[str] = Counter()
        self.items = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("TISIWATCH_DATABASE_URL"),
            settings.getint("TISIWATCH_RUN_ID"),
            settings.getint("TISIWATCH_SITE_ID"),
            settings.getint("TISIWATCH_BATCH_SIZE", 200),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if isinstance(item, FailedUrl):
            self.failures.append(item)
            if self.crawler.stats:
                self.crawler.stats.inc_value("tisiwatch/failed_urls")
        elif isinstance(item, Sighting):
            self.pending.append(item)
            self._count(item)
        if len(self.pending) >= self.batch_size or len(self.failures) >= self.batch_size:
            self.flush()
        return item

    def _count(self, item: Sighting) -> None:
        if item.gone:
            self.coverage["gone"] += 1
            return
        self.items += 1
        text = " ".join([item.title, item.description, *item.spec.keys(), *item.spec.values()])
        for name, present in (
            ("title", item.title),
            ("price", item.price is not None),
            ("seller", item.seller_name),
            ("licence_text", LICENCE_TEXT.search(text)),
        ):
            self.coverage[name] += bool(present)

    def flush(self) -> None:
        if not (self.pending or self.failures):
            return
        with self.store.session() as session:
            site = session.get_one(Site, self.site_id)
            for never_seen in store_sightings(session, site, self.run_id, self.pending):
                reason = f"HTTP {never_seen.http_status}: no such listing (never seen before)"
                self.failures.append(FailedUrl(never_seen.url, reason, never_seen.http_status))
                self.coverage["gone"] -= 1
                if self.crawler.stats:
                    self.crawler.stats.inc_value("tisiwatch/failed_urls")
            for failure in self.failures:
                record_failure(session, self.run_id, failure.url, failure.reason, failure.http_status)
        self.pending.clear()
        self.failures.clear()

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Close the run with its stats (the finish reason is known only now)."""
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        errors = {
            key.rsplit("/", 1)[-1]: value
            for key, value in stats.items()
            if key.startswith(("downloader/exception_type_count/", "spider_exceptions/"))
        }
        summary = {
            "pages": stats.get("response_received_count", 0),
            "items": self.items,
            "gone": self.coverage["gone"],
            "dropped": sum(v for k, v in stats.items() if k.startswith("tisiwatch/invalid/")),
            "failed_urls": stats.get("tisiwatch/failed_urls", 0),
            "errors": errors,
            "status_counts": {
                k.rsplit("/", 1)[-1]: v
                for k, v in stats.items()
                if k.startswith("downloader/response_status_count/")
            },
            "coverage": {
                name: round(self.coverage[name] / self.items, 4) if self.items else 0.0
                for name in ("title", "price", "seller", "licence_text")
            },
            "retries": stats.get("retry/count", 0),
            "retry_after_honoured": stats.get("tisiwatch/retry_after_honoured", 0),
            "trap_drops": {
                k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("tisiwatch/trap/")
            },
            "finish_reason": reason,
        }
        status = (
            "finished"
            if reason in {"finished", "closespider_itemcount", "closespider_pagecount"}
            else "failed"
        )
        with self.store.session() as session:
            finish_run(session, self.run_id, status, summary)
        self.store.dispose()
