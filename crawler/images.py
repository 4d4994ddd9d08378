"""Product images fetched by the crawl and kept as evidence, never by the matcher.

``ImageEvidencePipeline`` is an item pipeline built on Scrapy's ``MediaPipeline`` (the base of its
Files and Images pipelines). For each live sighting it asks the engine for the first
``crawl.max_images`` of the listing's http(s) image URLs, so an image is fetched like a page:
through the downloader middlewares (robots.txt, the profile's allowed domains, retries with backoff,
redirects) and the downloader's per-domain slots (concurrency, delay, AutoThrottle), with
``crawl.image_max_bytes`` as the request's ``download_maxsize``; an image that several listings show
is fetched once per crawl. ``EvidenceMiddleware`` writes each response as a WARC ``response`` record
(``meta["product_image"]``); nothing else is written.

The sighting goes on to the store with ``image_evidence``: per image its ``url`` and WARC
``warc_file``, ``warc_offset``, ``record_id``, ``payload_sha256``, ``status`` and ``content_type``,
or an ``error`` (and its ``kind``: ``robots``, ``http_404``, ``cancelled`` …) saying why it was not
kept. A failed image never fails its listing. Image fetches are counted apart from pages
(``tisiwatch/images/*``), so a run's pages, requests and error rates stay those of its pages.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Self, cast
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.pipelines.media import FileInfo, FileInfoOrError, MediaPipeline
from twisted.python.failure import Failure

from crawler.evidence import PRODUCT_IMAGE
from crawler.items import Sighting
from crawler.outcome import failure_kind

log = logging.getLogger(__name__)

PRIORITY = 500
"""Between ValidationPipeline (100), which fits the image URLs, and StorePipeline (800)."""
STATS = "tisiwatch/images"


def image_settings(max_images: int, max_bytes: int) -> dict[str, Any]:
    """The Scrapy settings that fetch up to ``max_images`` product images per listing as evidence."""
    return {
        "ITEM_PIPELINES": {"crawler.images.ImageEvidencePipeline": PRIORITY},
        "TISIWATCH_MAX_IMAGES": max_images,
        "TISIWATCH_IMAGE_MAX_BYTES": max_bytes,
        "MEDIA_ALLOW_REDIRECTS": True,
    }


class ImageEvidencePipeline(MediaPipeline):
    """Fetches each listing's product images through the crawl and records their WARC records."""

    LOG_FAILED_RESULTS = False  # a failed image is recorded with the listing, not an error of the crawl

    def __init__(self, crawler: Crawler, limit: int, max_bytes: int) -> None:
        super().__init__(crawler=crawler)
        self.limit = limit
        self.max_bytes = max_bytes
        self.failures: dict[str, dict[str, str]] = {}
        """Why each image URL (as requested) that failed was not fetched."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.get("TISIWATCH_EVIDENCE_DIR"):
            raise NotConfigured("no evidence is kept: product images are not fetched")
        return cls(
            crawler, settings.getint("TISIWATCH_MAX_IMAGES", 3), settings.getint("TISIWATCH_IMAGE_MAX_BYTES")
        )

    def image_urls(self, item: Sighting) -> list[str]:
        """The first ``limit`` distinct http(s) image URLs of a live sighting, in the listing's order."""
        if item.gone:
            return []
        urls = (url for url in item.images if urlsplit(url).scheme in ("http", "https"))
        return list(dict.fromkeys(urls))[: self.limit]

    def requests(self, item: Sighting) -> list[tuple[str, Request | None]]:
        """Each image URL and its request (None: not a URL Scrapy can request)."""
        meta = {PRODUCT_IMAGE: True, "download_maxsize": self.max_bytes}
        headers = {"Referer": item.fetched_url} if item.fetched_url else {}
        pairs: list[tuple[str, Request | None]] = []
        for url in self.image_urls(item):
            try:
                pairs.append((url, Request(url, meta=dict(meta), headers=headers)))
            except ValueError:
                pairs.append((url, None))
        return pairs

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        if not isinstance(item, Sighting):
            return []
        return [request for _, request in self.requests(item) if request is not None]

    def media_to_download(
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> None:
        return None  # always fetched: the evidence is this crawl's

    def media_downloaded(
        self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo:
        self._count("responses")
        self._count("requests")
        if 200 <= response.status < 300:
            self._count("answered")
        evidence = response.meta.get("evidence") or {}
        entry: dict[str, Any] = {
            "url": request.url,
            "status": response.status,
            "content_type": (response.headers.get(b"Content-Type") or b"").decode("latin-1")[:100],
            "warc_file": evidence.get("warc_file"),
            "warc_offset": evidence.get("warc_offset"),
            "record_id": evidence.get("warc_record_id"),
            "payload_sha256": evidence.get("payload_sha256"),
        }
        if response.url != request.url:
            entry["fetched_url"] = response.url
        if response.status != 200:
            entry.update(error=f"HTTP {response.status}", kind=f"http_{response.status}")
        elif "dataloss" in response.flags:
            entry.update(error="the image was cut off in transfer", kind="connection_lost")
        elif not entry["warc_file"]:
            entry.update(error="no WARC record could be written (see the crawl's log)", kind="evidence")
        self._count("failed" if "error" in entry else "fetched")
        return cast(FileInfo, entry)

    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> Any:
        """Record why the image was not fetched (returning, not raising: the media pipeline would log
        a raised error with its traceback, and a failed image is no error of the crawl)."""
        error = failure.value
        ignored = isinstance(error, IgnoreRequest)  # robots.txt, an offsite host
        if not ignored:
            self._count("requests")
        self._count("failed")
        kind = failure_kind(error) if isinstance(error, BaseException) else "error"
        reason = str(error) if ignored else f"{type(error).__name__}: {error}"
        self.failures[request.url] = {"error": reason[:300], "kind": kind}
        log.debug("product image not fetched: %s (%s)", request.url, reason)
        return None

    def item_completed(
        self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo
    ) -> Any:
        """The sighting with ``image_evidence``, one entry per image asked for, in the listing's order."""
        if not isinstance(item, Sighting):
            return item
        pairs = self.requests(item)
        if not pairs:
            return item
        outcomes = iter(results)
        entries: list[dict[str, Any]] = []
        for url, request in pairs:
            if request is None:
                entries.append({"url": url, "error": "not a URL that can be requested", "kind": "invalid"})
                continue
            ok, value = next(outcomes, (False, None))
            if ok and isinstance(value, dict):
                entries.append({**value, "url": url})
            else:
                failed = self.failures.get(request.url) or {"error": "not fetched", "kind": "error"}
                entries.append({"url": url, **failed})
        return dataclasses.replace(item, image_evidence=entries)

    def file_path(
        self,
        request: Request,
        response: Response | None = None,
        info: MediaPipeline.SpiderInfo | None = None,
        *,
        item: Any = None,
    ) -> str:
        raise NotImplementedError("product images are kept in the WARC evidence, not as files")

    def _count(self, key: str) -> None:
        if self.crawler.stats:
            self.crawler.stats.inc_value(f"{STATS}/{key}")
