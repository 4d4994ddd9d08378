"""Evidence: WARC records of listing pages as fetched, screenshots of rendered ones, and reading back."""

from __future__ import annotations

import errno
import gzip
import hashlib
import multiprocessing
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.utils.test import get_crawler
from scrapy_playwright.page import PageMethod
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from config import Settings, load_settings
from crawler.evidence import PRIORITY, EvidenceMiddleware, evidence_settings, screenshot_page_method
from crawler.profile import SiteProfile, load_profile
from crawler.settings import politeness, scrapy_settings
from crawler.spiders.browser import BrowserSpider
from crawler.warc import WarcFile
from demo.server import ShopsHandle
from store.db import Store
from store.evidence import read_capture, read_record, verify_file, verify_payload
from store.models import Listing, Observation
from store.writer import ensure_site, start_run
from tests.crawler.conftest import live_listings, profile_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SHOP = "http://shop.test"


OPENED: list[EvidenceMiddleware] = []


@pytest.fixture(autouse=True)
def _close_middlewares() -> Iterator[None]:
    """Every middleware a test made is closed (its file too), as the spider_closed signal would."""
    yield
    while OPENED:
        OPENED.pop().spider_closed()


def _middleware(data_dir: Path, run_id: int = 3, **extra: Any) -> EvidenceMiddleware:
    crawler = get_crawler(settings_dict={**evidence_settings(data_dir, run_id), **extra})
    middleware = EvidenceMiddleware.from_crawler(crawler)
    OPENED.append(middleware)
    return middleware


def _listing(path: str, **meta: Any) -> Request:
    return Request(f"{SHOP}{path}", meta={"listing": True, **meta}, headers={"User-Agent": "tisiwatch-test"})


def _page(request: Request, body: bytes, status: int = 200, **kwargs: Any) -> Response:
    headers = {"Content-Type": "text/html; charset=utf-8", **kwargs.pop("headers", {})}
    return HtmlResponse(request.url, status=status, body=body, headers=headers, request=request, **kwargs)


def _records_at(path: Path, offset: int) -> Iterator[Any]:
    """The records of a WARC file from ``offset`` on, their digests checked as they are read."""
    with path.open("rb") as handle:
        handle.seek(offset)
        for record in ArchiveIterator(handle, check_digests="raise"):
            payload = record.raw_stream.read()
            yield record, payload


def _records_at_bytes(raw: bytes) -> Iterator[Any]:
    """The records in ``raw`` (as ``read_record`` returns them), digests checked."""
    for record in ArchiveIterator(BytesIO(raw), check_digests="raise"):
        yield record, record.raw_stream.read()


def _stats(middleware: EvidenceMiddleware) -> dict[str, Any]:
    assert middleware.crawler.stats is not None
    return dict(middleware.crawler.stats.get_stats())


def test_a_listing_response_becomes_a_response_and_a_request_record(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    request = _listing("/p/1?ref=search")
    body = "<h1>ปลั๊กพ่วง มอก. 2432-2555</h1>".encode()
    assert middleware.process_response(request, _page(request, body)) is not None
    evidence = request.meta["evidence"]
    assert evidence["warc_file"] == "evidence/run-3/w0.warc.gz"
    assert evidence["payload_sha256"] == hashlib.sha256(body).hexdigest()
    path = tmp_path / evidence["warc_file"]
    [(info, _)] = list(_records_at(path, 0))[:1]
    assert info.rec_type == "warcinfo"
    (response, payload), (sent, _) = list(_records_at(path, evidence["warc_offset"]))
    assert response.rec_type == "response"
    assert response.rec_headers.get_header("WARC-Target-URI") == f"{SHOP}/p/1?ref=search"
    assert response.http_headers.get_statuscode() == "200"
    assert response.rec_headers.get_header("WARC-Payload-Digest").startswith("sha256:")
    assert payload == body
    assert sent.rec_type == "request"
    assert sent.http_headers.protocol == "GET"
    assert sent.http_headers.statusline == "/p/1?ref=search HTTP/1.1"
    assert sent.http_headers.get_header("Host") == "shop.test"
    assert sent.http_headers.get_header("User-Agent") == "tisiwatch-test"
    assert sent.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header(
        "WARC-Record-ID"
    )
    assert response.rec_headers.get_header("WARC-Concurrent-To") == sent.rec_headers.get_header(
        "WARC-Record-ID"
    )
    assert sent.rec_headers.get_header("WARC-Date") == response.rec_headers.get_header("WARC-Date")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", response.rec_headers.get_header("WARC-Date")
    )
    middleware.spider_closed()
    stats = _stats(middleware)
    assert stats["tisiwatch/evidence/records"] == 2
    assert stats["tisiwatch/evidence/bytes"] > 0
    assert stats["tisiwatch/evidence/warc_files"] == ["evidence/run-3/w0.warc.gz"]


def test_every_offset_points_at_its_own_response_record(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    pages = [(f"/p/{n}", f"<p>listing {n}</p>".encode() * n, 200) for n in range(1, 8)]
    pages += [("/p/gone", b"<p>removed</p>", 410), ("/p/missing", b"not found", 404)]
    requests = []
    for path, body, status in pages:
        request = _listing(path, handle_httpstatus_list=[404, 410])
        middleware.process_response(request, _page(request, body, status))
        requests.append(request)
    middleware.spider_closed()
    for request, (path, _, status) in zip(requests, pages, strict=True):
        evidence = request.meta["evidence"]
        raw = read_record(tmp_path, evidence["warc_file"], evidence["warc_offset"])
        [(record, payload)] = list(_records_at_bytes(raw))
        assert record.rec_headers.get_header("WARC-Target-URI") == f"{SHOP}{path}"
        assert record.http_headers.get_statuscode() == str(status)
        assert hashlib.sha256(payload).hexdigest() == evidence["payload_sha256"]
        assert verify_payload(
            tmp_path, evidence["warc_file"], evidence["warc_offset"], evidence["payload_sha256"]
        )
        # the capture: the response record and its request record
        assert (
            len(
                list(
                    _records_at_bytes(read_capture(tmp_path, evidence["warc_file"], evidence["warc_offset"]))
                )
            )
            == 2
        )
    assert not verify_payload(tmp_path, evidence["warc_file"], evidence["warc_offset"], "0" * 64)


def test_json_api_responses_are_recorded_like_pages(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    request = _listing("/api/items/7")
    body = b'{"id": "7", "title": "power bank"}'
    response = TextResponse(
        request.url, body=body, headers={"Content-Type": "application/json"}, request=request
    )
    middleware.process_response(request, response)
    evidence = request.meta["evidence"]
    [(record, payload)] = list(
        _records_at_bytes(read_record(tmp_path, evidence["warc_file"], evidence["warc_offset"]))
    )
    assert record.http_headers.get_header("Content-Type") == "application/json"
    assert payload == body
    middleware.spider_closed()


def test_responses_that_are_not_listings_are_not_recorded(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    for url in (f"{SHOP}/search?q=plug", f"{SHOP}/sitemap.xml", f"{SHOP}/robots.txt"):
        request = Request(url)
        middleware.process_response(request, _page(request, b"<a href='/p/1'>1</a>"))
        assert "evidence" not in request.meta
    middleware.spider_closed()
    assert not (tmp_path / "evidence").exists()
    assert "tisiwatch/evidence/records" not in _stats(middleware)


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data)


@pytest.mark.parametrize(("encoding", "compress"), [("gzip", gzip.compress), ("deflate", _deflate)])
def test_encoded_responses_are_stored_decoded_and_self_consistent(
    tmp_path: Path, encoding: str, compress: Any
) -> None:
    """What HttpCompressionMiddleware (590) decoded reaches the evidence middleware (540) decoded."""
    crawler = get_crawler(settings_dict=evidence_settings(tmp_path, 3))
    decompress = HttpCompressionMiddleware.from_crawler(crawler)
    middleware = EvidenceMiddleware.from_crawler(crawler)
    OPENED.append(middleware)
    request = _listing("/p/encoded")
    body = "<h1>หมวกกันน็อค มอก. 369-2557</h1>".encode() * 50
    wire = compress(body)
    headers = {"Content-Encoding": encoding, "Content-Length": str(len(wire)), "Transfer-Encoding": "chunked"}
    received = Response(
        request.url, body=wire, headers={"Content-Type": "text/html", **headers}, request=request
    )
    decoded = decompress.process_response(request, received)
    assert isinstance(decoded, Response)
    middleware.process_response(request, decoded)
    evidence = request.meta["evidence"]
    assert evidence["payload_sha256"] == hashlib.sha256(body).hexdigest()
    path = tmp_path / evidence["warc_file"]
    with path.open("rb") as handle:
        handle.seek(evidence["warc_offset"])
        record = next(iter(ArchiveIterator(handle)))
        http = record.http_headers
        assert http.get_header("Content-Encoding") is None
        assert http.get_header("Transfer-Encoding") is None
        assert http.get_header("Content-Length") == str(len(body))
        replaced = record.rec_headers.get_header("Tisiwatch-Replaced-Headers")
        assert f"Content-Length: {len(wire)}" in replaced
        assert "Transfer-Encoding: chunked" in replaced
        assert record.content_stream().read() == body  # what a WARC reader decodes is the body itself
    assert verify_payload(
        tmp_path, evidence["warc_file"], evidence["warc_offset"], evidence["payload_sha256"]
    )


def test_the_middleware_sees_final_decoded_responses(tmp_path: Path) -> None:
    """In the project's middleware stack, responses reach evidence after retry and decompression."""
    stack = politeness(load_settings(environ={}), load_profile("demo-html"))["DOWNLOADER_MIDDLEWARES"]
    stack = {**stack, **evidence_settings(tmp_path, 1)["DOWNLOADER_MIDDLEWARES"]}
    crawler = get_crawler(settings_dict={**evidence_settings(tmp_path, 1), "DOWNLOADER_MIDDLEWARES": stack})
    manager = DownloaderMiddlewareManager.from_crawler(crawler)
    order = [type(method.__self__).__name__ for method in manager.methods["process_response"]]
    assert PRIORITY < 550
    # process_response runs from the downloader towards the spider
    assert order.index("HttpCompressionMiddleware") < order.index("BackoffRetryMiddleware")
    assert order.index("BackoffRetryMiddleware") < order.index("EvidenceMiddleware")


def test_a_failing_write_does_not_stop_the_response(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    middleware = _middleware(tmp_path)

    def disk_full(self: WarcFile, records: Any) -> list[int]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(WarcFile, "write", disk_full)
    request = _listing("/p/1")
    response = _page(request, b"<h1>x</h1>")
    assert middleware.process_response(request, response) is response
    assert "evidence" not in request.meta
    middleware.spider_closed()
    assert _stats(middleware)["tisiwatch/evidence/errors"] == 1


def test_an_evidence_directory_that_cannot_be_created_does_not_stop_the_crawl(tmp_path: Path) -> None:
    blocked = tmp_path / "data"
    blocked.mkdir()
    (blocked / "evidence").write_text("a file where the directory should be")
    middleware = _middleware(blocked)
    for n in range(3):
        request = _listing(f"/p/{n}")
        middleware.process_response(request, _page(request, b"<h1>x</h1>"))
        assert "evidence" not in request.meta
    middleware.spider_closed()
    assert _stats(middleware)["tisiwatch/evidence/errors"] == 3


class _FailingOnce:
    """A file handle whose next write puts down half of the data, then reports a full disk; with
    ``stuck``, the torn half cannot be cut off either."""

    def __init__(self, handle: Any, stuck: bool = False) -> None:
        self.handle = handle
        self.fail = True
        self.stuck = stuck

    def truncate(self, size: int) -> int:
        if self.stuck:
            raise OSError(errno.EIO, "Input/output error")
        return int(self.handle.truncate(size))

    def write(self, data: Any) -> int:
        if self.fail:
            self.fail = False
            self.handle.write(bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return int(self.handle.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def test_a_torn_write_is_cut_back_off_and_the_file_stays_readable(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    first = _listing("/p/1")
    middleware.process_response(first, _page(first, b"<h1>first</h1>"))
    assert middleware.warc is not None
    size = middleware.warc.size
    middleware.warc.handle = _FailingOnce(middleware.warc.handle)  # type: ignore[assignment]
    torn = _listing("/p/2")
    middleware.process_response(torn, _page(torn, b"<h1>torn</h1>"))
    assert "evidence" not in torn.meta
    assert (tmp_path / first.meta["evidence"]["warc_file"]).stat().st_size == size
    third = _listing("/p/3")
    middleware.process_response(third, _page(third, b"<h1>third</h1>"))
    middleware.spider_closed()
    assert third.meta["evidence"]["warc_file"] == first.meta["evidence"]["warc_file"]
    uris = [
        r.rec_headers.get_header("WARC-Target-URI")
        for r, _ in _records_at(tmp_path / "evidence/run-3/w0.warc.gz", 0)
    ]
    assert uris == [None, f"{SHOP}/p/1", f"{SHOP}/p/1", f"{SHOP}/p/3", f"{SHOP}/p/3"]
    assert _stats(middleware)["tisiwatch/evidence/errors"] == 1


def test_a_file_that_cannot_be_cut_back_is_left_and_a_new_one_begun(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    first = _listing("/p/1")
    middleware.process_response(first, _page(first, b"<h1>first</h1>"))
    assert middleware.warc is not None
    middleware.warc.handle = _FailingOnce(middleware.warc.handle, stuck=True)  # type: ignore[assignment]
    torn = _listing("/p/2")
    middleware.process_response(torn, _page(torn, b"<h1>torn</h1>"))
    later = _listing("/p/3")
    middleware.process_response(later, _page(later, b"<h1>later</h1>"))
    middleware.spider_closed()
    assert "evidence" not in torn.meta
    assert later.meta["evidence"]["warc_file"] == "evidence/run-3/w0-2.warc.gz"
    for request in (first, later):
        evidence = request.meta["evidence"]
        assert verify_payload(
            tmp_path, evidence["warc_file"], evidence["warc_offset"], evidence["payload_sha256"]
        )
    assert _stats(middleware)["tisiwatch/evidence/warc_files"] == [
        "evidence/run-3/w0.warc.gz",
        "evidence/run-3/w0-2.warc.gz",
    ]


def test_headers_that_are_not_ascii_are_percent_encoded_as_utf8(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    request = _listing("/p/1")
    headers = {"X-Shop": "ร้านไทย".encode(), "X-Legacy": b"caf\xe9"}
    middleware.process_response(request, _page(request, b"<h1>x</h1>", headers=headers))
    evidence = request.meta["evidence"]
    [(record, _)] = list(
        _records_at_bytes(read_record(tmp_path, evidence["warc_file"], evidence["warc_offset"]))
    )
    assert unquote(record.http_headers.get_header("X-Shop")) == "ร้านไทย"
    assert unquote(record.http_headers.get_header("X-Legacy")) == "café"


def test_a_restarted_worker_writes_a_new_file_and_a_killed_one_keeps_what_it_wrote(tmp_path: Path) -> None:
    killed = _middleware(tmp_path)
    kept = _listing("/p/1")
    killed.process_response(kept, _page(kept, b"<h1>kept</h1>"))
    assert killed.warc is not None
    path = tmp_path / kept.meta["evidence"]["warc_file"]
    killed.warc.handle.write(b"\x1f\x8b\x08\x00 torn by SIGKILL")  # never closed, a torn record at the end
    resumed = _middleware(tmp_path)
    again = _listing("/p/2")
    resumed.process_response(again, _page(again, b"<h1>again</h1>"))
    resumed.spider_closed()
    assert again.meta["evidence"]["warc_file"] == "evidence/run-3/w0-2.warc.gz"
    evidence = kept.meta["evidence"]
    assert verify_payload(
        tmp_path, evidence["warc_file"], evidence["warc_offset"], evidence["payload_sha256"]
    )
    assert path.read_bytes().endswith(b"torn by SIGKILL")  # the first file was not touched
    other = _middleware(tmp_path, TISIWATCH_WORKER="w1")
    request = _listing("/p/3")
    other.process_response(request, _page(request, b"<h1>w1</h1>"))
    assert request.meta["evidence"]["warc_file"] == "evidence/run-3/w1.warc.gz"
    other.spider_closed()
    killed.spider_closed()


@pytest.mark.parametrize(
    "warc_file",
    [
        "../outside.warc.gz",
        "evidence/../../outside.warc.gz",
        "/etc/passwd",
        "..\\outside",
        "C:/outside",
        "",
        "a\x00b",
    ],
)
def test_read_record_refuses_a_path_outside_the_data_directory(tmp_path: Path, warc_file: str) -> None:
    with pytest.raises(ValueError, match="evidence file"):
        read_record(tmp_path / "data", warc_file, 0)


def test_read_record_refuses_a_symbolic_link_out_of_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "secret.warc.gz").write_bytes(b"")
    (data / "evidence").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="leads outside"):
        read_record(data, "evidence/secret.warc.gz", 0)
    with pytest.raises(ValueError, match="leads outside"):
        verify_file(data, "evidence/secret.warc.gz", "0" * 64)


def test_read_record_says_when_there_is_no_record_at_the_offset(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    request = _listing("/p/1")
    middleware.process_response(request, _page(request, b"<h1>x</h1>"))
    middleware.spider_closed()
    evidence = request.meta["evidence"]
    for offset in (evidence["warc_offset"] + 3, 10**9, -1):
        with pytest.raises(ValueError, match="offset"):
            read_record(tmp_path, evidence["warc_file"], offset)


def test_a_worker_name_that_is_not_a_plain_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TISIWATCH_WORKER"):
        _middleware(tmp_path, TISIWATCH_WORKER="../w0")
    with pytest.raises(ValueError, match="absolute"):
        EvidenceMiddleware.from_crawler(get_crawler(settings_dict={"TISIWATCH_EVIDENCE_DIR": "var"}))


def _rendered(request: Request, body: str, status: int = 200) -> HtmlResponse:
    return HtmlResponse(
        request.url,
        status=status,
        body=body.encode("utf-8"),
        encoding="utf-8",
        headers={"Content-Type": "text/html", "Server": "demo"},
        request=request,
        flags=["playwright"],
    )


def test_a_rendered_page_is_a_resource_record_with_its_screenshot(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    shot = screenshot_page_method()
    shot.result = PNG
    request = _listing(
        "/p/9", playwright=True, playwright_page_methods=[PageMethod("wait_for_selector", "h1"), shot]
    )
    body = "<html><body><h1>เตารีด</h1></body></html>"
    middleware.process_response(request, _rendered(request, body))
    evidence = request.meta["evidence"]
    digest = hashlib.sha256(PNG).hexdigest()
    assert evidence["screenshot_file"] == f"evidence/run-3/screenshots/{digest}.png"
    assert evidence["screenshot_sha256"] == digest
    assert (tmp_path / evidence["screenshot_file"]).read_bytes() == PNG
    assert verify_file(tmp_path, evidence["screenshot_file"], digest)
    assert shot.result is None  # the bytes do not stay in memory
    records = list(_records_at_bytes(read_capture(tmp_path, evidence["warc_file"], evidence["warc_offset"])))
    [(resource, payload), (metadata, fields), (sent, _)] = records
    assert resource.rec_type == "resource"
    assert resource.rec_headers.get_header("Content-Type") == "text/html; charset=utf-8"
    assert "Chromium" in resource.rec_headers.get_header("Tisiwatch-Rendered-By")
    assert payload == body.encode("utf-8")
    assert evidence["payload_sha256"] == hashlib.sha256(payload).hexdigest()
    assert metadata.rec_type == "metadata"
    assert f"screenshot-sha256: {digest}".encode() in fields
    assert b"http-status: 200" in fields
    assert b"http-header: Server: demo" in fields
    assert sent.rec_type == "request"
    # the same picture again (another listing showing the same page) is stored once
    again = _listing("/p/10", playwright_page_methods=[screenshot_page_method()])
    again.meta["playwright_page_methods"][0].result = PNG
    middleware.process_response(again, _rendered(again, body))
    middleware.spider_closed()
    assert again.meta["evidence"]["screenshot_file"] == evidence["screenshot_file"]
    stats = _stats(middleware)
    assert stats["tisiwatch/evidence/screenshots"] == 2
    assert stats["tisiwatch/evidence/screenshot_bytes"] == len(PNG)


def test_a_failing_screenshot_keeps_the_warc_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    middleware = _middleware(tmp_path)

    def refuse(*args: Any) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "write_bytes", refuse)
    shot = screenshot_page_method()
    shot.result = PNG
    request = _listing("/p/9", playwright_page_methods=[shot])
    middleware.process_response(request, _rendered(request, "<h1>x</h1>", status=404))
    evidence = request.meta["evidence"]
    assert "screenshot_file" not in evidence
    assert shot.result is None
    assert verify_payload(
        tmp_path, evidence["warc_file"], evidence["warc_offset"], evidence["payload_sha256"]
    )
    middleware.spider_closed()
    assert _stats(middleware)["tisiwatch/evidence/errors"] == 1


# --- a real crawl of the demo shops, in a process of its own (Scrapy's reactor runs once per process)


class ScreenshotBrowserSpider(BrowserSpider):
    """The browser spider with the change screenshots need: the screenshot after the render wait."""

    def listing_request(self, url: str, **meta: Any) -> Request:
        request = super().listing_request(url, **meta)
        request.meta["playwright_page_methods"].append(screenshot_page_method())
        return request


SPIDER_CLASSES = {
    "html": "crawler.spiders.html.HtmlSpider",
    "api": "crawler.spiders.api.ApiSpider",
    "browser": "tests.crawler.test_evidence.ScreenshotBrowserSpider",
}


def _crawl_process(data_dir: str, database_url: str, jobs: list[dict[str, Any]]) -> None:
    """The child: one Scrapy crawl per job, the evidence middleware on, into the store."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.misc import load_object

    settings = load_settings(overrides={"data_dir": data_dir, "crawl": {"retries": 2}}, environ={})
    process = CrawlerProcess({"LOG_LEVEL": "WARNING"})
    for job in jobs:
        profile = SiteProfile.model_validate(job["profile"])
        custom = scrapy_settings(settings, profile, job, database_url, 0)
        for key, value in evidence_settings(Path(data_dir), job["run_id"]).items():
            custom[key] = {**custom[key], **value} if isinstance(value, dict) else value
        base = load_object(SPIDER_CLASSES[profile.kind])
        spider_class = type(base.__name__, (base,), {"custom_settings": custom})
        process.crawl(spider_class, profile=profile, queries=[], urls=job["urls"])
    process.start()


def _crawl_with_evidence(
    data_dir: Path, store: Store, shops: ShopsHandle, kinds: dict[str, list[str]]
) -> None:
    jobs = []
    with store.session() as session:
        for kind, urls in kinds.items():
            profile = profile_for(shops, kind)
            site = ensure_site(session, profile.name, profile.kind, profile.base_url)
            run = start_run(session, site)
            jobs.append(
                {
                    "profile": profile.model_dump(mode="json"),
                    "run_id": run.id,
                    "site_id": site.id,
                    "urls": urls,
                }
            )
    child = multiprocessing.get_context("spawn").Process(
        target=_crawl_process,
        args=(str(data_dir), store.engine.url.render_as_string(hide_password=False), jobs),
    )
    child.start()
    child.join(timeout=240)
    assert child.exitcode == 0


def _observations(store: Store) -> list[tuple[str, Observation]]:
    with store.session() as session:
        rows = session.execute(select(Listing.listing_key, Observation).join(Listing)).all()
        return [(key, observation) for key, observation in rows]


def test_a_crawl_of_the_demo_shops_keeps_evidence_of_every_listing(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    data_dir = crawl_settings.data_dir
    _crawl_with_evidence(data_dir, store, shops, {"html": [], "api": []})
    observations = _observations(store)
    by_site = Counter(key.split(":", 1)[0] for key, _ in observations)
    assert by_site["demo-html"] == len(live_listings("html"))
    assert by_site["demo-api"] >= len(live_listings("api")) - 1  # one listing of the API shop answers 404
    for key, observation in observations:
        assert observation.warc_file is not None, key
        assert observation.warc_offset is not None
        assert observation.payload_sha256 is not None
        raw = read_record(data_dir, observation.warc_file, observation.warc_offset)
        [(record, payload)] = list(_records_at_bytes(raw))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI").startswith(("http://", "https://"))
        assert hashlib.sha256(payload).hexdigest() == observation.payload_sha256, key
        assert verify_payload(
            data_dir, observation.warc_file, observation.warc_offset, observation.payload_sha256
        )
        assert observation.screenshot_file is None
    files = {key.split(":", 1)[0]: observation.warc_file for key, observation in observations}
    assert len(set(files.values())) == 2  # one per site's run (and worker)
    images = {entry["url"] for _, o in observations for entry in o.image_evidence or []}
    assert images  # the product images are fetched with the pages (crawl.images, on by default)
    for site, warc_file in files.items():
        responses = [
            (record.rec_headers.get_header("WARC-Target-URI"), record.http_headers.get_statuscode())
            for record, _ in _records_at(data_dir / warc_file, 0)
            if record.rec_type == "response"
        ]
        statuses = Counter(status for uri, status in responses if uri not in images)
        # final answers only: the 503 and 429 the shops give once were retried, and not recorded
        assert statuses == {"200": by_site[site], "404": 1}, site
        assert {uri for uri, _ in responses if uri in images} <= images


@pytest.mark.browser
def test_a_browser_crawl_keeps_the_rendered_page_and_a_screenshot(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    data_dir = crawl_settings.data_dir
    items = live_listings("browser")[:3]
    urls = [shops.product_url("browser", item.item_id) for item in items]
    _crawl_with_evidence(data_dir, store, shops, {"browser": urls})
    observations = _observations(store)
    assert len(observations) == len(items)
    for key, observation in observations:
        assert observation.warc_file is not None
        assert observation.warc_offset is not None
        assert observation.screenshot_file is not None, key
        assert observation.screenshot_sha256 is not None
        screenshot = data_dir / observation.screenshot_file
        assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert verify_file(data_dir, observation.screenshot_file, observation.screenshot_sha256)
        raw = read_capture(data_dir, observation.warc_file, observation.warc_offset)
        [(resource, payload), (_, fields), _] = list(_records_at_bytes(raw))
        assert resource.rec_type == "resource"
        assert hashlib.sha256(payload).hexdigest() == observation.payload_sha256
        assert b"<h1" in payload  # the rendered document, not the empty shell the server sent
        assert f"screenshot-sha256: {observation.screenshot_sha256}".encode() in fields
