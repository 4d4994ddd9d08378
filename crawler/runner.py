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

from sqlalchemy import select

from config import Settings
from crawler.profile import SiteProfile, load_profile
from store.db import Store
from store.models import CrawlRun, RegisterVersion, Standard
from store.writer import ensure_site, finish_run, start_run

log = logging.getLogger(__name__)
SPIDERS = {
    "html": "crawler.spiders.html.HtmlSpider",
    "api": "crawler.spiders.api.ApiSpider",
    "browser": "crawler.spiders.browser.BrowserSpider",
}
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
    store: Store | None = None,
    on_progress: Progress | None = None,
) -> list[CrawlResult]:
    """Crawl ``sites`` (profile names or profiles) and store what is found; one run per site."""
    store = store or Store(settings.database_url, settings.database.busy_timeout_ms)
    profiles = [
        s if isinstance(s, SiteProfile) else load_profile(s, settings.crawl.profiles_dir) for s in sites
    ]
    words = list(queries) if queries is not None else register_keywords(store)
    jobs = [CrawlJob(p, queries=words, urls=list(urls)) for p in profiles]
    with store.session() as session:
        for job in jobs:
            site = ensure_site(session, job.profile.name, job.profile.kind, job.profile.base_url)
            job.site_id = site.id
            job.run_id = start_run(session, site, mode="urls" if urls else "discover").id
    limit = settings.crawl.max_items if max_items is None else max_items
    _run_child(settings, jobs, limit, on_progress)
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


def _run_child(settings: Settings, jobs: list[CrawlJob], limit: int, on_progress: Progress | None) -> None:
    """Run the crawl process (``python -m crawler.worker``): the job on stdin, progress events back on stdout."""
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


def scrapy_settings(
    settings: Settings, profile: SiteProfile, job: dict[str, Any], database_url: str, max_items: int
) -> dict[str, Any]:
    """The Scrapy settings of one site's crawl: tisiwatch settings, then the profile's politeness."""
    crawl_cfg = settings.crawl
    browser: dict[str, Any] = {}
    if profile.kind == "browser":
        from crawler.spiders.browser import playwright_settings

        browser = playwright_settings(max_pages=min(crawl_cfg.concurrency, profile.politeness.concurrency))
    return {
        **browser,
        "BOT_NAME": "tisiwatch",
        "USER_AGENT": crawl_cfg.user_agent,
        "ROBOTSTXT_OBEY": crawl_cfg.obey_robots and profile.politeness.obey_robots,
        "CONCURRENT_REQUESTS": crawl_cfg.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": min(
            crawl_cfg.concurrency_per_domain, profile.politeness.concurrency
        ),
        "DOWNLOAD_DELAY": max(crawl_cfg.delay_s, profile.politeness.delay_s),
        "DOWNLOAD_TIMEOUT": crawl_cfg.timeout_s,
        "DOWNLOAD_MAXSIZE": 16 * 1024 * 1024,
        "RETRY_TIMES": crawl_cfg.retries,
        "CLOSESPIDER_ITEMCOUNT": max_items,
        "CLOSESPIDER_PAGECOUNT": crawl_cfg.max_pages,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING" if settings.log_level == "INFO" else settings.log_level,
        "ITEM_PIPELINES": {
            "crawler.pipelines.ValidationPipeline": 100,
            "crawler.pipelines.StorePipeline": 800,
        },
        "EXTENSIONS": {"crawler.progress.ProgressExtension": 500},
        "TISIWATCH_DATABASE_URL": database_url,
        "TISIWATCH_RUN_ID": job["run_id"],
        "TISIWATCH_SITE_ID": job["site_id"],
    }
