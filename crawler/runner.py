"""``crawl(...)``: the crawl stage's entry point, called by the CLI, the demo and the scheduler.

Scrapy's reactor cannot be restarted inside one process, so every crawl runs its spiders in fresh
child processes (one, or ``workers`` sharing a frontier in Redis: ``crawler.scaleout``); the parent
creates or resumes the runs (``crawler.resume``), relays progress and reads the results from the store.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import select

from config import Settings
from crawler.frontier import RunKeys, delete_frontier, forget_worker
from crawler.planned import PlannedWork, account, budget_of, make_plan
from crawler.profile import SiteProfile, load_profile
from crawler.resume import Plan, RunRecord, blocked_run, reopen, resumable_run
from crawler.scaleout import run_workers, settle_run, worker_name
from crawler.tally import closing
from crawler.urltemplate import id_only
from store.db import Store
from store.models import CrawlRun, Listing, Site
from store.planning import PLANNED_MODE
from store.register import standard_keywords
from store.takedowns import sent_listings
from store.writer import ensure_site, finish_run, start_run

log = logging.getLogger(__name__)
Progress = Callable[[dict[str, Any]], None]


class CrawlRequestError(ValueError):
    """The crawl asked for cannot start (the message says why); nothing was crawled."""


@dataclass
class CrawlJob:
    """One site to crawl: its profile, what to look for, and the run that records it."""

    profile: SiteProfile
    queries: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    run_id: int = 0
    site_id: int = 0
    max_items: int = 0
    resumes: int = 0
    """How many times the run has been resumed, this time included (0: a new run)."""
    to_crawl: bool = True
    listing_ids: dict[str, str] = field(default_factory=dict)
    """A re-check's known listing id of each URL."""
    late_urls: list[str] = field(default_factory=list)
    """A planned run's re-checks of listings without an open violation (after its searches)."""
    budget: int = 0
    """A planned run's requests (``crawler.budget``); 0: no budget."""
    first_urls: list[str] = field(default_factory=list)
    """The daily crawl of a site without a budget: its listings whose case sent to ETDA is open
    (``store.takedowns``), fetched before its discovery so that a takedown is seen the day it happens."""


@dataclass(frozen=True)
class CrawlResult:
    site: str
    run_id: int
    status: str
    stats: dict[str, Any]
    resumed: bool = False


def register_keywords(store: Store) -> list[str]:
    """The search words of every standard in the register in force (Thai first, then English)."""
    with store.session() as session:
        return standard_keywords(session)


def crawl(
    settings: Settings,
    sites: Sequence[str | SiteProfile],
    *,
    queries: Sequence[str] | None = None,
    urls: Sequence[str] = (),
    max_items: int | None = None,
    recheck: bool = False,
    store: Store | None = None,
    on_progress: Progress | None = None,
    workers: int | None = None,
    resume: bool = False,
    planned: bool = False,
) -> list[CrawlResult]:
    """Crawl ``sites`` (profile names or profiles) and store what is found; one run per site.

    ``queries`` default to the register's keywords; ``urls`` crawl only those listing pages;
    ``recheck`` revisits the site's known listings (those not gone) to see what changed or went.
    ``workers`` (default ``crawl.workers``) worker processes crawl each run; more than one needs
    ``crawl.redis_url``, where they share one frontier (``crawler.scaleout``). With ``resume``, a
    site whose latest run never finished (killed, or stopped) has that run continued with its own
    plan, losing and duplicating nothing (``crawler.resume``); the other sites start new runs.
    ``planned`` (the scheduler's daily crawl): a site with a budget (``crawler.planned.budget_of``)
    spends it as the daily plan says (``crawler.budget``); a site without one is crawled as usual. A site
    whose latest run was blocked (status ``blocked``) has that run continued by a crawl of the same mode.
    """
    count = settings.crawl.workers if workers is None else workers
    if count < 1:
        raise CrawlRequestError(f"crawl.workers must be 1 or more, not {count}")
    if count > 1 and not settings.crawl.redis_url:
        raise CrawlRequestError(
            f"{count} crawl workers need crawl.redis_url: they share one frontier in Redis"
        )
    store = store or Store.from_settings(settings)
    profiles = [
        s if isinstance(s, SiteProfile) else load_profile(s, settings.crawl.profiles_dir) for s in sites
    ]
    words = list(queries) if queries is not None else register_keywords(store)
    limit = settings.crawl.max_items if max_items is None else max_items
    mode = "recheck" if recheck else "urls" if urls else "discover"
    jobs = [
        _plan_job(
            store,
            profile,
            mode,
            words,
            list(urls),
            limit,
            resume,
            budget_of(settings, profile) if planned else 0,
            planned,
        )
        for profile in profiles
    ]
    try:
        _run_workers(settings, [job for job in jobs if job.to_crawl], count, on_progress)
    finally:
        if settings.crawl.redis_url:
            for job in jobs:
                delete_frontier(settings.crawl.redis_url, RunKeys(settings.crawl.redis_prefix, job.run_id))
    results = []
    with store.session() as session:
        for job in jobs:
            settle_run(session, job.run_id, [worker_name(i, job.resumes) for i in range(count)])
        for job in jobs:
            if job.budget:
                account(session, job.run_id, words)
        for job in jobs:
            run = session.get_one(CrawlRun, job.run_id)
            session.refresh(run)
            results.append(
                CrawlResult(job.profile.name, run.id, run.status, dict(run.stats), job.resumes > 0)
            )
    return results


def _plan_job(
    store: Store,
    profile: SiteProfile,
    mode: str,
    words: list[str],
    urls: list[str],
    limit: int,
    resume: bool,
    budget: int = 0,
    daily: bool = False,
) -> CrawlJob:
    """The job of one site: the run it continues (``resume``, when one never finished) or a new one;
    with a ``budget``, a run of the daily plan (``crawler.planned``). A ``daily`` discovery without a
    budget also re-checks, first, the listings whose case sent to ETDA is open."""
    with store.session() as session:
        site = ensure_site(session, profile.name, profile.kind, profile.base_url)
        blocked = blocked_run(session, site.id, PLANNED_MODE if budget else mode)
        run = resumable_run(session, site.id) if resume else blocked
        if run is not None and run.mode == PLANNED_MODE:
            resumes = reopen(session, run)
            work = PlannedWork.of(run.stats or {}, resumes)
            return _planned_job(profile, work, run.id, site.id, limit, resumes)
        if run is None and budget:
            run = start_run(session, site, mode=PLANNED_MODE)
            _, record = make_plan(session, profile, site.id, words, budget, _old_listing_url)
            run.stats = {"budget": record}
            return _planned_job(profile, PlannedWork.of(run.stats, 0), run.id, site.id, limit, 0)
        if run is not None:
            resumes = reopen(session, run)
            plan, mode = Plan.of(run.stats), run.mode
            job = CrawlJob(
                profile, list(plan.queries), list(plan.urls), run.id, site.id, plan.max_items, resumes
            )
        else:
            run = start_run(session, site, mode=mode)
            plan = Plan(words, urls if mode == "urls" else [], limit)
            run.stats = {"plan": plan.as_stats()}
            job = CrawlJob(profile, words, urls, run.id, site.id, limit)
    if mode == "recheck":
        known = recheck_urls(store, profile)
        job.urls = list(dict.fromkeys(url for url, _ in known))
        job.listing_ids = {url: marketplace_id for url, marketplace_id in known}
        if not job.urls and not job.resumes:  # nothing known yet: a re-check must not turn into a discovery
            with store.session() as session:
                finish_run(
                    session, job.run_id, "finished", {"items": 0, "pages": 0, "note": "no known listings"}
                )
            job.to_crawl = False
    if daily and mode == "discover" and not job.budget:
        with store.session() as session:
            sent = sent_listings(session, job.site_id)
        known = [(fetched or _old_listing_url(profile, mid, url), mid) for mid, url, fetched in sent]
        job.first_urls = list(dict.fromkeys(url for url, _ in known))
        job.listing_ids = {url: mid for url, mid in known}
    finished_before = job.resumes > 0 and mode == "recheck" and not job.urls
    if job.resumes and job.max_items:  # the limit counts what the run stored before it was resumed
        with store.session() as session:
            stored = len(RunRecord.load(session, job.run_id).listing_ids)
        finished_before = finished_before or stored >= job.max_items
        job.max_items = max(job.max_items - stored, 1)
    if finished_before:  # nothing left to do: the killed crawl had done it all
        with store.session() as session:
            run = session.get_one(CrawlRun, job.run_id)
            finish_run(session, job.run_id, *closing(run.stats, "finished", "finished"))
        job.to_crawl = False
    return job


def _planned_job(
    profile: SiteProfile, work: PlannedWork, run_id: int, site_id: int, limit: int, resumes: int
) -> CrawlJob:
    job = CrawlJob(profile, work.queries, work.first, run_id, site_id, limit, resumes, budget=work.budget)
    job.late_urls, job.listing_ids = work.late, work.listing_ids
    return job


def recheck_urls(store: Store, profile: SiteProfile) -> list[tuple[str, str]]:
    """Where to fetch each of the site's known listings that are not gone: ``(url, marketplace id)``.

    A listing is fetched where it was last read (``Listing.fetched_url``). Listings stored before
    that was kept are fetched at the profile's template (``item_url`` for api shops, else
    ``listing_url``) when their id is the one in their URL, and otherwise at their URL — a page
    whose id came from schema.org ``sku`` has no address built from the id.
    """
    with store.session() as session:
        rows = session.execute(
            select(Listing.marketplace_id, Listing.url, Listing.fetched_url)
            .join(Site)
            .where(Site.name == profile.name, Listing.gone_at.is_(None))
            .order_by(Listing.id)
        ).all()
    return [(fetched or _old_listing_url(profile, mid, url), mid) for mid, url, fetched in rows]


def _old_listing_url(profile: SiteProfile, marketplace_id: str, url: str) -> str:
    discovery = profile.discovery
    template = discovery.item_url if profile.kind == "api" else discovery.listing_url
    if not template or not id_only(template):  # a template that reads a search item: the stored URL
        return url
    if profile.kind != "api":
        found = re.search(discovery.id_from_url, url.split("?", 1)[0]) if discovery.id_from_url else None
        if found is None or found.group(1) != marketplace_id:
            return url
    # an id read from a URL is already percent-encoded: encode what it means, once
    return profile.url(template.format(id=quote(unquote(marketplace_id), safe="")))


def _run_workers(settings: Settings, jobs: list[CrawlJob], count: int, on_progress: Progress | None) -> None:
    """Run ``count`` crawl processes (``python -m crawler.worker``), each given every job."""
    if not jobs:
        return
    if settings.crawl.redis_url:  # a resumed run starts from a fresh frontier: its store is what counts
        for job in jobs:
            delete_frontier(settings.crawl.redis_url, RunKeys(settings.crawl.redis_prefix, job.run_id))
    payloads = [
        {
            "settings": settings.model_dump(mode="json"),
            "database_url": settings.database_url,
            "worker": worker_name(index),
            "jobs": [
                {
                    "profile": j.profile.model_dump(mode="json"),
                    "queries": j.queries,
                    "urls": j.urls,
                    "listing_ids": j.listing_ids,
                    "run_id": j.run_id,
                    "site_id": j.site_id,
                    "max_items": j.max_items,
                    "worker": worker_name(index, j.resumes),
                    "workers": count,
                    "closes_run": count == 1,
                    "resume": j.resumes > 0,
                    "planned": j.budget > 0,
                    "late_urls": j.late_urls,
                    "first_urls": j.first_urls,
                    "budget": -(-j.budget // count) if j.budget else 0,
                }
                for j in jobs
            ],
        }
        for index in range(count)
    ]
    redis_url, prefix = settings.crawl.redis_url, settings.crawl.redis_prefix

    def ended(index: int, code: int) -> None:
        if code and redis_url:  # a killed worker never cleared its busy marks: the others must not wait
            for job in jobs:
                forget_worker(redis_url, RunKeys(prefix, job.run_id), worker_name(index, job.resumes))

    run_workers(payloads, on_progress, ended)
