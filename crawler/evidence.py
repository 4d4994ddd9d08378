"""Evidence of every listing page as fetched: a WARC record of it, and a full-page screenshot where a
browser rendered it; and a WARC record of each product image the crawl fetched (``crawler.images``). The files and how to read them back are in ``crawler.warc``.

``EvidenceMiddleware`` is a downloader middleware at ``PRIORITY`` (540). Responses travel from the
downloader down the priorities, so at 540 it sees only what RetryMiddleware (550) let through — the
final answer, never a 503 or 429 that was retried — and it sees the body after
HttpCompressionMiddleware (590) decoded it. The WARC record holds that decoded body, the body the
spider read and hashed, with headers made consistent with it: ``Content-Encoding`` names only what
the body still has (Scrapy removes what it decoded), ``Transfer-Encoding`` is dropped, and
``Content-Length`` is the stored length; replaced values are kept in the record's
``Tisiwatch-Replaced-Headers`` field. Secrets are not evidence: the values of ``Cookie``,
``Authorization`` and ``Set-Cookie`` are redacted in every record (``crawler.session.redacted``).

JSON a browser page fetched by itself (a profile's ``[capture]``, ``crawler.capture``) is written as
``response`` records beside the page; ``meta["evidence"]["captured"]`` lists each with its URL,
status, SHA-256, WARC file, offset and record id.

A page a browser rendered (scrapy-playwright) is not what the server sent: it is stored as a
``resource`` record of the rendered document, with a ``metadata`` record of the server's status and
headers and the screenshot's hash, and the ``request`` record. A listing request of a browser site
carries :func:`screenshot_page_method`; the PNG it returns is stored content-addressed and dropped
from the request's meta.

Evidence never breaks a crawl: a failure is logged, counted (``tisiwatch/evidence/errors``) and the
response goes on without that evidence.
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response, TextResponse
from scrapy_playwright.page import PageMethod

from crawler.capture import Captured, captures_of, exchange, reference
from crawler.session import redacted
from crawler.warc import (
    WORKER_NAME,
    Exchange,
    WarcFile,
    http_capture,
    rendered_capture,
    run_directory,
    sha256_hex,
)

log = logging.getLogger(__name__)

PRIORITY = 540
"""Below RetryMiddleware (550): final responses only; below HttpCompressionMiddleware (590): decoded."""
RENDERED_BY = (
    "Chromium through scrapy-playwright: the document after rendering, not the bytes the server sent"
)
STATS = "tisiwatch/evidence"
PRODUCT_IMAGE = "product_image"
"""The request meta key of a product image fetched as evidence (``crawler.images``)."""


def evidence_settings(data_dir: Path, run_id: int, worker: str | None = None) -> dict[str, Any]:
    """The Scrapy settings that keep evidence of a run's listing pages under ``data_dir``. The worker
    name (``TISIWATCH_WORKER``, default "w0") is left to whoever names workers unless given."""
    layer: dict[str, Any] = {
        "DOWNLOADER_MIDDLEWARES": {"crawler.evidence.EvidenceMiddleware": PRIORITY},
        "TISIWATCH_EVIDENCE_DIR": str(Path(data_dir).resolve()),
        "TISIWATCH_RUN_ID": run_id,
    }
    if worker is not None:
        layer["TISIWATCH_WORKER"] = worker
    return layer


def screenshot_page_method() -> PageMethod:
    """The page method that takes a listing page's full-page PNG, after the page has rendered."""
    return PageMethod("screenshot", full_page=True, type="png")


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _text(value: bytes) -> str:
    """A header as text: UTF-8 where it is (warcio %-encodes it as UTF-8, RFC 8187), else Latin-1."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(_text(name), _text(value)) for name, values in headers.items() for value in values]


def _content_type(response: Response) -> str:
    header = response.headers.get(b"Content-Type") or b""
    mime = header.split(b";")[0].decode("latin-1").strip() or "text/html"
    return f"{mime}; charset={response.encoding}" if isinstance(response, TextResponse) else mime


class EvidenceMiddleware:
    """Writes a WARC record of every listing response (``meta["listing"]``) and product image
    (``meta["product_image"]``, see ``crawler.images``) and sets ``meta["evidence"]``: ``warc_file``,
    ``warc_offset``, ``warc_record_id``, ``payload_sha256``, ``screenshot_file``, ``screenshot_sha256``."""

    def __init__(self, crawler: Crawler, data_dir: Path, run_id: int, worker: str) -> None:
        self.crawler = crawler
        self.data_dir = data_dir
        self.run_id = run_id
        self.worker = worker
        self.warc: WarcFile | None = None
        self.files: list[str] = []
        self.errors = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        directory = settings.get("TISIWATCH_EVIDENCE_DIR")
        if not directory:
            raise NotConfigured("TISIWATCH_EVIDENCE_DIR is not set: no evidence is kept")
        if not Path(directory).is_absolute():
            raise ValueError(f"TISIWATCH_EVIDENCE_DIR must be an absolute path, not {directory!r}")
        worker = settings.get("TISIWATCH_WORKER") or "w0"
        if not WORKER_NAME.fullmatch(worker):
            raise ValueError(f"TISIWATCH_WORKER {worker!r}: use letters, digits, '-' and '_' (up to 64)")
        middleware = cls(crawler, Path(directory), settings.getint("TISIWATCH_RUN_ID"), worker)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        captured = captures_of(request.meta)
        if not (request.meta.get("listing") or request.meta.get(PRODUCT_IMAGE) or captured):
            return response
        evidence: dict[str, Any] = {}
        rendered = "playwright" in response.flags
        if rendered and request.meta.get("listing"):
            evidence.update(self.screenshot(request))
        try:
            if request.meta.get("listing") or request.meta.get(PRODUCT_IMAGE):
                evidence.update(self.record(request, response, rendered, evidence))
            if captured:
                evidence["captured"] = self.record_captured(captured)
        except Exception:
            self._failed("WARC record", response.url)
        if evidence:
            request.meta["evidence"] = evidence
        return response

    def record(
        self, request: Request, response: Response, rendered: bool, evidence: dict[str, Any]
    ) -> dict[str, Any]:
        """Write the response's records; the evidence fields that point at them."""
        exchange = Exchange(
            url=response.url,
            status=response.status,
            response_headers=redacted(_headers(response.headers)),
            body=response.body,
            method=request.method,
            request_headers=redacted(_headers(request.headers)),  # no cookie values
            request_body=request.body,
            protocol=response.protocol or "HTTP/1.1",
            ip_address=str(response.ip_address) if response.ip_address else None,
            truncated="dataloss" in response.flags,
        )
        if rendered:
            notes = {}
            if evidence.get("screenshot_file"):
                notes = {
                    "screenshot": evidence["screenshot_file"],
                    "screenshot-sha256": evidence["screenshot_sha256"],
                }
            records = rendered_capture(exchange, _content_type(response), RENDERED_BY, notes)
        else:
            records = http_capture(exchange)
        warc_file, offsets = self._write(records)
        return {
            "warc_file": warc_file,
            "warc_offset": offsets[0],
            "warc_record_id": records[0].rec_headers.get_header("WARC-Record-ID"),
            "payload_sha256": sha256_hex(response.body),
        }

    def record_captured(self, captured: list[Captured]) -> list[dict[str, Any]]:
        """A ``response`` record (and its ``request``) of each JSON answer the page fetched by itself."""
        refs = []
        for answer in captured:
            records = http_capture(exchange(answer))
            warc_file, offsets = self._write(records)
            record_id = records[0].rec_headers.get_header("WARC-Record-ID")
            refs.append({**reference(answer), "warc_file": warc_file, "warc_offset": offsets[0],
                         "warc_record_id": record_id})  # fmt: skip
        return refs

    def _write(self, records: list[Any]) -> tuple[str, list[int]]:
        """Write one capture's records; the file and each record's offset."""
        warc = self._open()
        before = warc.size
        try:
            offsets = warc.write(records)
        except OSError:
            if warc.broken:  # cut back failed: the next capture starts a new file
                self._close()
            raise
        self._count("records", len(records))
        self._count("bytes", warc.size - before)
        return warc.relative, offsets

    def screenshot(self, request: Request) -> dict[str, Any]:
        """Store the PNG of the request's screenshot page method; its bytes leave the meta either way."""
        methods = request.meta.get("playwright_page_methods") or []
        if isinstance(methods, dict):
            methods = list(methods.values())
        evidence: dict[str, Any] = {}
        for method in methods:
            if getattr(method, "method", None) != "screenshot":
                continue
            png, method.result = method.result, None
            if evidence or not isinstance(png, bytes) or not png:
                continue
            try:
                evidence = self._store_screenshot(png)
            except Exception:
                self._failed("screenshot", request.url)
        return evidence

    def _store_screenshot(self, png: bytes) -> dict[str, Any]:
        digest = sha256_hex(png)
        relative = run_directory(self.run_id) / "screenshots" / f"{digest}.png"
        path = self.data_dir / relative
        if not path.exists():  # content-addressed: a file of that name already holds these bytes
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{digest}.{os.getpid()}.part")
            try:
                partial.write_bytes(png)
                partial.replace(path)
            finally:
                partial.unlink(missing_ok=True)
            self._count("screenshot_bytes", len(png))
        self._count("screenshots")
        return {"screenshot_file": relative.as_posix(), "screenshot_sha256": digest}

    def _open(self) -> WarcFile:
        if self.warc is None:
            settings = self.crawler.settings
            info = {
                "software": f"tisiwatch {_package_version('tisiwatch')} (Scrapy {scrapy.__version__}, "
                f"warcio {_package_version('warcio')})",
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "isPartOf": f"tisiwatch crawl run {self.run_id}",
                "description": "listing pages and their product images as fetched; bodies decoded (see Tisiwatch-Replaced-Headers); "
                "browser pages as resource records of the rendered document",
                "tisiwatch-run-id": str(self.run_id),
                "tisiwatch-worker": self.worker,
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "http-header-user-agent": settings.get("USER_AGENT") or "",
            }
            self.warc = WarcFile.create(self.data_dir, self.run_id, self.worker, info)
            self.files.append(self.warc.relative)
            if self.crawler.stats:
                self.crawler.stats.set_value(f"{STATS}/warc_files", list(self.files))
        return self.warc

    def _close(self) -> None:
        warc, self.warc = self.warc, None
        if warc is not None:
            try:
                warc.close()
            except OSError:
                log.exception("evidence: could not close %s", warc.relative)

    def _count(self, key: str, count: int = 1) -> None:
        if self.crawler.stats:
            self.crawler.stats.inc_value(f"{STATS}/{key}", count)

    def _failed(self, what: str, url: str) -> None:
        """Count a failure; log the first with its traceback, the others only at debug level."""
        self.errors += 1
        self._count("errors")
        if self.errors == 1:
            log.exception("evidence: no %s for %s; the crawl goes on without it", what, url)
        else:
            log.debug("evidence: no %s for %s", what, url, exc_info=True)

    def spider_closed(self) -> None:
        self._close()
        if self.errors:
            log.error(
                "evidence: %d listing pages lack a WARC record or screenshot (see the first error)",
                self.errors,
            )
