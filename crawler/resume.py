"""Resuming a killed crawl: the same run goes on, with no listing lost and none stored twice.

Why not Scrapy's ``JOBDIR``: it keeps the scheduler's queue and the dupefilter's fingerprints on
disk. A request is marked seen when it is scheduled, so a request that was in flight when the
process died — or whose listing was scraped but still waited in the store pipeline's batch — is
remembered as seen, never fetched again, and never stored: lost. The robust equivalent treats the
store as the source of truth (it commits each batch, with the worker's stats, in one transaction):

1. ``crawl(..., resume=True)`` looks at each site's latest run. If it is still ``running`` (its
   whole process group was killed, so nobody closed it) or ``interrupted`` (its worker died, or was
   stopped with Ctrl-C), :func:`reopen` marks it running again and it continues **under the same
   run id** — not a new linked run — so that everything the run saw is one crawl of the site for
   reports, and "one observation per listing per run" can be checked. ``stats["resumes"]`` counts
   the resumptions, and the resumed worker processes get new names ("w0-r1"), so their evidence
   files and stats entries never collide with the killed ones'. Otherwise a new run starts.
2. The run's :class:`Plan` (search words, URLs, item limit), recorded when it started, is crawled
   again: discovery (result pages, sitemaps — cheap) runs again and yields the same listing pages.
3. :class:`ResumeGuardMiddleware` drops every listing request whose listing already has an
   observation in this run (known by the marketplace id its URL or meta carries, or by its URL),
   and every request whose URL already finally failed in this run — both read from the store once,
   when the spider opens. What was in flight or in an uncommitted batch is not in the store, so it
   is fetched again; what is in the store is not.
4. ``StorePipeline`` stores at most one observation per listing per run, which also covers a
   listing whose id shows only inside its page (the guard cannot know it before fetching).

A run the site *blocked* (``blocked``: ``crawler.throttle`` stopped it) is continued the same way, and
by the site's next crawl of the same mode even without ``--resume``: the requests it did not make are
those its plan yields and the store does not answer. Why not keep the queue (the Redis frontier, or
the pending URLs): the queue holds the result pages too, and a blocked run is continued a day later,
when its result pages are stale anyway; the store already knows, exactly, what was done — the same
reason ``--resume`` rests on it. With several workers the frontier keys are deleted as always.

So, after the resumed run finishes: every listing the uninterrupted crawl would have stored is
stored; the listings table has one row per (site, marketplace id); the run has exactly one
observation per listing it saw; and a listing page is fetched a second time only if it was fetched
but not committed when the process died. ``--resume`` assumes the earlier crawl no longer runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.settings import worker_store
from store.models import CrawlFailure, CrawlRun, Listing, Observation

RESUMABLE = ("running", "interrupted", "blocked")


@dataclass(frozen=True)
class Plan:
    """What a run was asked to crawl, kept in ``stats["plan"]`` so that a resumed run does the same.

    A re-check does not keep its URLs (all known listings): they are computed again on resumption.
    """

    queries: Sequence[str] = ()
    urls: Sequence[str] = ()
    max_items: int = 0

    def as_stats(self) -> dict[str, Any]:
        return {"queries": list(self.queries), "urls": list(self.urls), "max_items": self.max_items}

    @classmethod
    def of(cls, stats: Mapping[str, Any]) -> Plan:
        plan = stats.get("plan") or {}
        return cls(list(plan.get("queries", [])), list(plan.get("urls", [])), int(plan.get("max_items", 0)))


def resumable_run(session: Session, site_id: int) -> CrawlRun | None:
    """The site's latest run if it never finished (``running``/``interrupted``/``blocked``), else None."""
    latest = session.scalar(
        select(CrawlRun).where(CrawlRun.site_id == site_id).order_by(CrawlRun.id.desc()).limit(1)
    )
    return latest if latest is not None and latest.status in RESUMABLE else None


def blocked_run(session: Session, site_id: int, mode: str) -> CrawlRun | None:
    """The site's latest run if the site blocked it and it crawled in ``mode``: the next crawl of that
    mode continues it (without ``--resume``), so that the requests it could not make are made."""
    latest = session.scalar(
        select(CrawlRun).where(CrawlRun.site_id == site_id).order_by(CrawlRun.id.desc()).limit(1)
    )
    return latest if latest is not None and latest.status == "blocked" and latest.mode == mode else None


def reopen(session: Session, run: CrawlRun) -> int:
    """Mark ``run`` running again; returns how many times it has now been resumed (1 the first time)."""
    resumes = int((run.stats or {}).get("resumes", 0)) + 1
    run.stats = {**(run.stats or {}), "resumes": resumes}
    run.status = "running"
    run.finished_at = None
    session.flush()
    return resumes


@dataclass
class RunRecord:
    """What the store already holds of a run: the listings it observed and the URLs that failed."""

    listing_ids: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    failed_urls: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, run_id: int) -> RunRecord:
        record = cls()
        observed = session.execute(
            select(Listing.marketplace_id, Observation.url)
            .join(Observation, Observation.listing_id == Listing.id)
            .where(Observation.run_id == run_id)
        )
        for marketplace_id, url in observed:
            record.listing_ids.add(marketplace_id)
            record.urls.add(url)
        record.failed_urls.update(
            session.scalars(select(CrawlFailure.url).where(CrawlFailure.run_id == run_id))
        )
        return record


class ResumeGuardMiddleware(BaseSpiderMiddleware):
    """Drops the requests of a resumed run whose outcome the store already holds (see the module doc).

    Dropped requests are counted in the stats: ``tisiwatch/resume/stored`` (the listing is already
    observed in this run) and ``tisiwatch/resume/failed`` (the URL already finally failed).
    """

    def __init__(self, crawler: Crawler, record: RunRecord) -> None:
        super().__init__(crawler)
        self.record = record

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        store = worker_store(settings)
        try:
            with store.session() as session:
                record = RunRecord.load(session, settings.getint("TISIWATCH_RUN_ID"))
        finally:
            store.dispose()
        return cls(crawler, record)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        reason = self.known(request)
        if reason is None:
            return request
        if self.crawler.stats:
            self.crawler.stats.inc_value(f"tisiwatch/resume/{reason}")
        return None

    def known(self, request: Request) -> str | None:
        """Why the store already answers ``request`` ("stored", "failed"), or None."""
        if request.url in self.record.failed_urls:
            return "failed"
        if not request.meta.get("listing"):
            return None
        id_from_url = getattr(self.crawler.spider, "id_from_url", None)
        marketplace_id = request.meta.get("item_id") or (id_from_url(request.url) if id_from_url else None)
        if marketplace_id in self.record.listing_ids or request.url in self.record.urls:
            return "stored"
        return None
