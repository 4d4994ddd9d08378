"""``crawl(...)``: the crawl stage's entry point, called by the CLI, the demo and the scheduler.

Scrapy's reactor cannot be restarted inside one process, so every crawl runs its spiders in a fresh
child process; the parent creates the runs, relays progress and reads the results from the store.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from config import Settings
from crawler.profile import SiteProfile, load_profile
from store.db import Store
from store.models import CrawlRun, Listing, RegisterVersion, Site, Standard
from store.writer import ensure_site, finish_run, start_run

log = logging.getLogger(__name__)
Progress = Callable[[dict[str, Any]], None]


@dataclass
class CrawlJob:
    """One site to crawl: its profile, what to look for, and the run that records it."""

    profile: SiteProfile
    queries: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    run_id: int = 0
    site_id: int = 0


@dataclass(frozen=True)
class CrawlResult:
    site: str
    run_id: int
    status: str
    stats: dict[str, Any]


def register_keywords(store: Store) -> list[str]:
    """The search words of every standard in the current register (Thai first, then English)."""
    with store.session() as session:
        version = session.scalar(select(RegisterVersion).order_by(RegisterVersion.id.desc()).limit(1))
        if version is None or version.standards_from is None:
            return []
        rows = session.execute(
            select(Standard.keywords_th, Standard.keywords_en).where(
                Standard.version_id == version.standards_from
            )
        )
        words = [word for th, en in rows for word in [*th, *en]]
    return list(dict.fromkeys(words))


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
) -> list[CrawlResult]:
    """Crawl ``sites`` (profile names or profiles) and store what is found; one run per site.

    ``queries`` default to the register's keywords; ``urls`` crawl only those listing pages;
    ``recheck`` revisits the site's known listings (those not gone) to see what changed or went.
    """
    store = store or Store(settings.database_url, settings.database.busy_timeout_ms)
    profiles = [
        s if isinstance(s, SiteProfile) else load_profile(s, settings.crawl.profiles_dir) for s in sites
    ]
    words = list(queries) if queries is not None else register_keywords(store)
    jobs = [
        CrawlJob(p, queries=words, urls=recheck_urls(store, p) if recheck else list(urls)) for p in profiles
    ]
    mode = "recheck" if recheck else "urls" if urls else "discover"
    with store.session() as session:
        for job in jobs:
            site = ensure_site(session, job.profile.name, job.profile.kind, job.profile.base_url)
            job.site_id = site.id
            job.run_id = start_run(session, site, mode=mode).id
            if recheck and not job.urls:  # nothing known yet: a re-check must not turn into a discovery
                finish_run(
                    session, job.run_id, "finished", {"items": 0, "pages": 0, "note": "no known listings"}
                )
    limit = settings.crawl.max_items if max_items is None else max_items
    _run_child(settings, [job for job in jobs if job.urls or not recheck], limit, on_progress)
    results = []
    with store.session() as session:
        for job in jobs:
            run = session.get_one(CrawlRun, job.run_id)
            if run.status == "running":  # the crawl process died before it could close the run
                finish_run(
                    session, run.id, "failed", {**run.stats, "error": "crawl process ended abnormally"}
                )
                session.refresh(run)
            results.append(CrawlResult(job.profile.name, run.id, run.status, dict(run.stats)))
    return results


def recheck_urls(store: Store, profile: SiteProfile) -> list[str]:
    """The listing pages of the site's known listings that are not gone, at the profile's address."""
    discovery = profile.discovery
    template = discovery.item_url if profile.kind == "api" else discovery.listing_url
    with store.session() as session:
        rows = session.execute(
            select(Listing.marketplace_id, Listing.url)
            .join(Site)
            .where(Site.name == profile.name, Listing.gone_at.is_(None))
            .order_by(Listing.id)
        ).all()
    return [profile.url(template.format(id=quote(mid, safe=""))) if template else url for mid, url in rows]


def _run_child(settings: Settings, jobs: list[CrawlJob], limit: int, on_progress: Progress | None) -> None:
    """Run the crawl process (``python -m crawler.worker``): the job on stdin, progress events back on stdout."""
    if not jobs:
        return
    payload = {
        "settings": settings.model_dump(mode="json"),
        "database_url": settings.database_url,
        "jobs": [
            {
                "profile": j.profile.model_dump(mode="json"),
                "queries": j.queries,
                "urls": j.urls,
                "run_id": j.run_id,
                "site_id": j.site_id,
            }
            for j in jobs
        ],
        "max_items": limit,
    }
    command = [sys.executable, "-m", "crawler.worker"]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(payload))
        process.stdin.close()
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if on_progress is not None and isinstance(event, dict):
                on_progress(event)
    if process.returncode:
        log.error("crawl process exited with code %s", process.returncode)
