"""The Scrapy settings of one site's crawl, composed from tisiwatch's settings and the site profile.

Layers, later wins: the crawl defaults of ``settings.toml`` → the profile's politeness → what the
kind of site needs (a browser) → what the run needs (evidence, its ids). Politeness is on by
default: robots.txt obeyed, AutoThrottle, retries with backoff, and 429/503 or block signals that
slow the whole site down and honour ``Retry-After`` (``crawler.throttle``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from config import DatabaseConfig, Settings
from crawler.profile import SiteProfile
from crawler.runlog import log_file
from crawler.scaleout import worker_settings
from store.db import Store

SPIDERS = {
    "html": "crawler.spiders.html.HtmlSpider",
    "api": "crawler.spiders.api.ApiSpider",
    "browser": "crawler.spiders.browser.BrowserSpider",
}
MAX_PAGE_BYTES = 16 * 1024 * 1024


def politeness(settings: Settings, profile: SiteProfile) -> dict[str, Any]:
    """Robots.txt, concurrency, delay, AutoThrottle, timeouts, retries, page size and trap limits."""
    crawl = settings.crawl
    per_site = min(crawl.concurrency_per_domain, profile.politeness.concurrency)
    return {
        "ROBOTSTXT_OBEY": crawl.obey_robots and profile.politeness.obey_robots,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_site,
        "DOWNLOAD_DELAY": max(crawl.delay_s, profile.politeness.delay_s),
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.delay_s, profile.politeness.delay_s, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(per_site),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "DOWNLOAD_TIMEOUT": crawl.timeout_s,
        "DOWNLOAD_MAXSIZE": MAX_PAGE_BYTES,
        "DOWNLOAD_WARNSIZE": MAX_PAGE_BYTES // 4,
        "RETRY_TIMES": crawl.retries,
        "RETRY_HTTP_CODES": [500, 502, 504, 522, 524, 408],  # 429, 503: crawler.throttle
        "TISIWATCH_BLOCK_MAX_DELAY_S": crawl.block_max_delay_s,
        "TISIWATCH_BLOCK_GIVE_UP_S": crawl.block_give_up_s,
        "TISIWATCH_BLOCK_REQUEST_ROUNDS": crawl.block_request_rounds,
        "TISIWATCH_RETRY_BACKOFF_S": crawl.retry_backoff_s,
        "TISIWATCH_RETRY_AFTER_MAX_S": crawl.retry_after_max_s,
        "DEPTH_LIMIT": profile.discovery.max_result_pages + 5,
        "TISIWATCH_MAX_URL_LENGTH": 2000,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.retry.BackoffRetryMiddleware": 550,
            "crawler.throttle.SiteThrottleMiddleware": 580,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawler.redirect.LoopRedirectMiddleware": 600,
        },
        "SPIDER_MIDDLEWARES": {
            "crawler.guard.TrapGuardMiddleware": 850,
            "crawler.spend.WordTagMiddleware": 860,
        },
    }


def browser(settings: Settings, profile: SiteProfile) -> dict[str, Any]:
    if profile.kind != "browser":
        return {}
    from crawler.spiders.browser import playwright_settings

    return playwright_settings(
        max_pages=min(settings.crawl.concurrency, profile.politeness.concurrency),
        images=settings.crawl.evidence,
    )


def session(settings: Settings, profile: SiteProfile) -> dict[str, Any]:
    """The profile's headers, cookie file and browser profile directory (``crawler.session``)."""
    if profile.session is None:
        return {}
    from crawler.session import session_settings

    scheme = urlsplit(profile.base_url).scheme
    return session_settings(
        settings.data_dir, profile.session, profile.kind, settings.crawl.user_agent, scheme
    )


def evidence(settings: Settings, profile: SiteProfile, job: dict[str, Any]) -> dict[str, Any]:
    """WARC records of every listing page (and screenshots of rendered ones), unless evidence is off.
    The worker's name (``TISIWATCH_WORKER``) comes from the worker layer."""
    if not settings.crawl.evidence:
        return {}
    from crawler.evidence import evidence_settings

    return {
        **evidence_settings(settings.data_dir, job["run_id"]),
        "TISIWATCH_SCREENSHOTS": profile.kind == "browser",
    }


def images(settings: Settings) -> dict[str, Any]:
    """Product images fetched with the listings and kept as WARC evidence (``crawler.images``), when
    both images and evidence are on."""
    crawl = settings.crawl
    if not (crawl.images and crawl.evidence):
        return {}
    from crawler.images import image_settings

    return image_settings(crawl.max_images, crawl.image_max_bytes)


def database(settings: Settings, database_url: str) -> dict[str, Any]:
    """The store a worker writes to, opened as every other process opens it (``Store.from_settings``):
    its URL, busy timeout and echo."""
    return {
        "TISIWATCH_DATABASE_URL": database_url,
        "TISIWATCH_DATABASE_BUSY_TIMEOUT_MS": settings.database.busy_timeout_ms,
        "TISIWATCH_DATABASE_ECHO": settings.database.echo,
    }


def worker_store(settings: BaseSettings) -> Store:
    """The store named by a crawler's Scrapy settings (:func:`database`); a setting left out has the
    default of ``[database]``."""
    default = DatabaseConfig()
    return Store(
        settings.get("TISIWATCH_DATABASE_URL"),
        settings.getint("TISIWATCH_DATABASE_BUSY_TIMEOUT_MS", default.busy_timeout_ms),
        settings.getbool("TISIWATCH_DATABASE_ECHO", default.echo),
    )


def scrapy_settings(
    settings: Settings, profile: SiteProfile, job: dict[str, Any], database_url: str, max_items: int
) -> dict[str, Any]:
    """The Scrapy settings of one site's crawl."""
    composed: dict[str, Any] = {
        "BOT_NAME": "tisiwatch",
        "USER_AGENT": settings.crawl.user_agent,
        "CLOSESPIDER_ITEMCOUNT": max_items,
        "CLOSESPIDER_PAGECOUNT": settings.crawl.max_pages,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING" if settings.log_level == "INFO" else settings.log_level,
        "LOG_FORMATTER": "crawler.runlog.ShortLogFormatter",
        "TISIWATCH_LOG_FILE": log_file(job["run_id"], job.get("worker") or "w0"),
        "ITEM_PIPELINES": {
            "crawler.pipelines.ValidationPipeline": 100,
            "crawler.pipelines.StorePipeline": 800,
        },
        "EXTENSIONS": {"crawler.progress.ProgressExtension": 500, "crawler.spend.SpendExtension": 510},
        **database(settings, database_url),
        "TISIWATCH_RUN_ID": job["run_id"],
        "TISIWATCH_SITE_ID": job["site_id"],
        "TISIWATCH_BUDGET": job.get("budget", 0),
    }
    for layer in (
        politeness(settings, profile),
        browser(settings, profile),
        session(settings, profile),
        worker_settings(settings, profile, job),
        evidence(settings, profile, job),
        images(settings),
    ):
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(composed.get(key), dict):
                composed[key] = {**composed[key], **value}
            else:
                composed[key] = value
    return composed
