"""Item pipelines: validate what spiders yield, then store it in batches.

``ValidationPipeline`` fits sightings for the store, and turns those it cannot store into failed URLs;
``StorePipeline`` upserts listings and appends observations, records this worker's stats with
every batch, and (when it is the run's only worker) closes the run with its stats.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import create_looping_call
from sqlalchemy import select
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from core.text import escaped
from crawler.items import FailedUrl, Sighting
from crawler.limits import MAX_URL, fit, problem_with, url_problem
from crawler.outcome import origin
from crawler.settings import worker_store
from crawler.tally import closing, status_after, worker_summary
from store.db import Store
from store.models import Listing, Observation, Site
from store.writer import finish_run, record_failure, record_worker_stats, store_sightings

log = logging.getLogger(__name__)

LICENCE_TEXT = re.compile(r"มอก|ม\s*\.?\s*อ\s*\.?\s*ก|ใบอนุญาต|\bTIS\b|licen[cs]e", re.IGNORECASE)


class ValidationPipeline:
    """Fits every sighting for the store (``crawler.limits``): oversized fields cut, an unusable shown
    URL replaced by the page's, each recorded in the observation's raw data and counted in the stats
    (``tisiwatch/cut/<field>``); a sighting that cannot be stored at all becomes a failed URL with its
    reason (``tisiwatch/invalid/<reason>``). Nothing is dropped, so no item ever reaches a log line."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Sighting):
            return item
        assert self.stats is not None
        problem = problem_with(item)
        if problem:
            self.stats.inc_value(f"tisiwatch/invalid/{problem}")
            where = item.fetched_url if url_problem(item.url) else item.url
            return FailedUrl(
                escaped((where or item.url)[:MAX_URL]),
                f"listing not stored: {problem}",
                item.http_status,
                "invalid",
            )
        fitted = fit(item)
        if fitted is not item:
            for name in [*fitted.raw.get("cut", {}), *(["url"] if "shown_url" in fitted.raw else [])]:
                self.stats.inc_value(f"tisiwatch/cut/{name}")
        return fitted


class StorePipeline:
    """Writes sightings and failed URLs to the store, every ``batch_size`` items and at least every
    ``flush_interval_s`` seconds, so that a killed crawl loses at most a second of work.

    Each batch is one transaction: the listings, their observations, the failures and this worker's
    stats (``stats["workers"][worker]``) commit together, so the store always says exactly what
    was stored — which is what a resumed crawl relies on (``crawler.resume``). A listing gets at
    most one observation per run: a second sighting in the same run (another URL of the listing, or
    a page fetched again around a resumption) is counted as a duplicate and not stored.
    """

    def __init__(
        self,
        crawler: Crawler,
        store: Store,
        run_id: int,
        site_id: int,
        batch_size: int,
        *,
        worker: str = "w0",
        closes_run: bool = True,
        flush_interval_s: float = 1.0,
    ) -> None:
        self.crawler = crawler
        self.store = store
        self.run_id = run_id
        self.site_id = site_id
        self.batch_size = batch_size
        self.worker = worker
        self.closes_run = closes_run
        self.flush_interval_s = flush_interval_s
        self.pending: list[Sighting] = []
        self.failures: list[FailedUrl] = []
        self.counts: Counter[str] = Counter()
        self.timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            worker_store(settings),
            settings.getint("TISIWATCH_RUN_ID"),
            settings.getint("TISIWATCH_SITE_ID"),
            settings.getint("TISIWATCH_BATCH_SIZE", 200),
            worker=settings.get("TISIWATCH_WORKER") or "w0",
            closes_run=settings.getbool("TISIWATCH_CLOSES_RUN", True),
            flush_interval_s=settings.getfloat("TISIWATCH_FLUSH_INTERVAL_S", 1.0),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.spider_error, signal=signals.spider_error)
        return pipeline

    def open_spider(self) -> None:
        if self.flush_interval_s > 0:
            self.timer = create_looping_call(self._flush_on_time)
            self.timer.start(self.flush_interval_s, now=False)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, FailedUrl):
            self.failures.append(item)
            self._count_failure(item)
        elif isinstance(item, Sighting):
            self.pending.append(item)
        if len(self.pending) >= self.batch_size or len(self.failures) >= self.batch_size:
            self.flush()
        return item

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        """A callback raised (a bug: Scrapy logs its traceback): its page is a failed URL, not lost."""
        error = failure.value
        reason = f"{type(error).__name__}: {error}"[:500] if error is not None else "spider error"
        self.process_item(FailedUrl(response.url, reason, response.status, "error"))

    def _count_failure(self, failure: FailedUrl) -> None:
        """Count a failed URL, by kind, and keep where the first of its kind was."""
        stats = self.crawler.stats
        if stats:
            stats.inc_value("tisiwatch/failed_urls")
            stats.inc_value(f"tisiwatch/failed/{failure.kind}")
            if stats.get_value(f"tisiwatch/failed_at/{failure.kind}") is None:
                stats.set_value(f"tisiwatch/failed_at/{failure.kind}", origin(failure.url))

    def _flush_on_time(self) -> None:
        try:
            self.flush()
        except Exception:  # the batch stays pending and is tried again with the next one
            log.exception("storing a batch of %s listings failed; will try again", len(self.pending))

    def flush(self) -> None:
        if not (self.pending or self.failures):
            return
        counts = Counter(self.counts)
        failures = list(self.failures)
        with self.store.session() as session:
            site = session.get_one(Site, self.site_id)
            batch = self._new_in_run(session, self.pending)
            counts["duplicates"] += len(self.pending) - len(batch)
            never_seen = store_sightings(session, site, self.run_id, batch)
            for sighting in never_seen:
                reason = f"HTTP {sighting.http_status}: no such listing (never seen before)"
                failures.append(FailedUrl(sighting.url, reason, sighting.http_status, "not_found"))
                self._count_failure(failures[-1])
            skipped = {s.marketplace_id for s in never_seen}
            for sighting in batch:
                if sighting.marketplace_id not in skipped:
                    _count(counts, sighting)
            for failure in failures:
                record_failure(session, self.run_id, failure.url, failure.reason, failure.http_status)
            record_worker_stats(session, self.run_id, self.worker, self.summary(counts, None))
        self.counts = counts
        self.pending.clear()
        self.failures.clear()

    def _new_in_run(self, session: Session, sightings: list[Sighting]) -> list[Sighting]:
        """The batch, one sighting per listing (the last), without listings this run already observed;
        in a fixed order, so that concurrent workers lock the same listings in the same order."""
        latest = {s.marketplace_id: s for s in sightings}
        if not latest:
            return []
        observed = session.scalars(
            select(Listing.marketplace_id)
            .join(Observation, Observation.listing_id == Listing.id)
            .where(
                Observation.run_id == self.run_id,
                Listing.site_id == self.site_id,
                Listing.marketplace_id.in_(list(latest)),
            )
        )
        for marketplace_id in set(observed):
            del latest[marketplace_id]
        return [latest[key] for key in sorted(latest)]

    def summary(self, counts: Counter[str], reason: str | None) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        return worker_summary(stats, counts, reason, self.crawler.settings.get("TISIWATCH_LOG_FILE"))

    def close_spider(self) -> None:
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Record this worker's final stats; the run's only worker also closes the run (the finish
        reason is known only now). With several workers, the parent closes it when all have ended."""
        with self.store.session() as session:
            merged = record_worker_stats(session, self.run_id, self.worker, self.summary(self.counts, reason))
            if self.closes_run:
                status, stats = closing(merged, reason, status_after(reason))
                finish_run(session, self.run_id, status, stats)
        self.store.dispose()


def _count(counts: Counter[str], item: Sighting) -> None:
    """Count a stored sighting: a live listing, and which fields it has (coverage); or a gone one."""
    if item.gone:
        counts["gone"] += 1
        return
    counts["items"] += 1
    text = " ".join([item.title, item.description, *item.spec.keys(), *item.spec.values()])
    for name, present in (
        ("title", item.title),
        ("price", item.price is not None),
        ("seller", item.seller_name),
        ("licence_text", LICENCE_TEXT.search(text)),
    ):
        counts[name] += bool(present)
