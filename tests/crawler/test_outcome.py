"""How a crawl ends: a run that fetched nothing, or whose every request was refused, has failed and
says why in one line; expected network errors are counted, not printed as tracebacks; partial
failures are counted and point to ``tisiwatch runs --run N``; bugs still show."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import HtmlResponse, Request
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy import select
from typer.testing import CliRunner

import cli
from config import Settings
from crawler.outcome import failure_kind, judged
from crawler.runlog import TerminalFilter
from crawler.runner import crawl
from store.db import Store
from store.models import CrawlRun
from tests.crawler.conftest import page_profile
from tests.crawler.pageserver import PageServer, product_page

DOWN = "http://127.0.0.1:1"
"""Nothing listens on port 1: every connection is refused."""


@pytest.fixture
def cli_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "250")
    config = tmp_path / "settings.toml"
    config.write_text("[crawl]\nretries = 1\nretry_backoff_s = 0.1\n", encoding="utf-8")
    Store(f"sqlite:///{tmp_path / 'tisiwatch.db'}").migrate()  # what `tisiwatch init` does
    return ["--config", str(config), "--data-dir", str(tmp_path)]


def _run(tmp_path: Path, run_id: int) -> CrawlRun:
    store = Store(f"sqlite:///{tmp_path / 'tisiwatch.db'}")
    try:
        with store.session() as session:
            return session.scalars(select(CrawlRun).where(CrawlRun.id == run_id)).one()
    finally:
        store.dispose()


def test_a_crawl_of_a_site_that_is_down_fails_and_says_why_in_one_line(
    cli_options: list[str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = CliRunner().invoke(
        cli.app, [*cli_options, "crawl", "demo-html", "--query", "x", "--base-url", DOWN]
    )
    terminal = capfd.readouterr().err
    assert result.exit_code == 1, result.output
    assert "demo-html: run 1 failed — 0 listings, 0 pages, 1 failed URLs" in result.output
    assert "connection refused at http://127.0.0.1:1: is the site up?" in result.output
    assert "Traceback" not in terminal, terminal  # the crawl process printed no traceback
    assert "Gave up retrying" not in terminal
    run = _run(tmp_path, 1)
    assert run.status == "failed"
    assert run.stats["reason"] == "connection refused at http://127.0.0.1:1: is the site up?"
    assert run.stats["failures"] == {"connection_refused": 1}
    # the whole Scrapy log, tracebacks included, is in the run's log file
    log = tmp_path / "logs" / "run-1-w0.log"
    assert run.stats["workers"]["w0"]["log"] == "logs/run-1-w0.log"
    assert "DownloadConnectionRefusedError" in log.read_text(encoding="utf-8")

    shown = CliRunner().invoke(cli.app, [*cli_options, "runs", "--run", "1"])
    assert "connection refused at http://127.0.0.1:1: is the site up?" in shown.output
    assert "connection refused: 1" in shown.output
    assert str(log) in shown.output


def test_a_crawl_partly_failed_counts_its_failures_and_points_to_the_run(
    cli_options: list[str], page_server: PageServer, tmp_path: Path
) -> None:
    page_server.serve("/product/a", product_page({"name": "ปลั๊กพ่วง", "sku": "a"}))
    page_server.serve("/product/b", "<html>no</html>", status=403)
    urls = ["--url", page_server.url("/product/a"), "--url", page_server.url("/product/b")]
    result = CliRunner().invoke(
        cli.app, [*cli_options, "crawl", "demo-html", "--base-url", page_server.base_url, *urls]
    )
    assert result.exit_code == 0, result.output
    assert "demo-html: run 1 finished — 1 listings" in result.output
    assert "1 of 2 URLs failed — see `tisiwatch runs --run 1`" in result.output
    run = _run(tmp_path, 1)
    assert (run.status, run.stats["failures"]) == ("finished", {"http_403": 1})
    assert "reason" not in run.stats


def test_a_site_that_refuses_every_request_fails_the_run(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    for target in ("/product/a", "/product/b"):
        page_server.serve(target, "<html>Access denied</html>", status=403)
    [result] = crawl(crawl_settings, [page_profile(page_server, ["/product/a", "/product/b"])], store=store)
    assert result.status == "failed"
    assert result.stats["reason"] == f"every request answered HTTP 403 at {page_server.base_url}"
    assert result.stats["failures"] == {"http_403": 2}


def _http_error(status: int) -> HttpError:
    response = HtmlResponse("http://shop.test/p/1", status=status, request=Request("http://shop.test/p/1"))
    return HttpError(response, "Ignoring non-200 response")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (DownloadConnectionRefusedError("Connection was refused by other side: 111"), "connection_refused"),
        (CannotResolveHostError("DNS lookup failed: no results for hostname lookup: shop.invalid."), "dns"),
        (DownloadTimeoutError("Getting http://shop.test/ took longer than 30.0 seconds."), "timeout"),
        (DownloadFailedError("[<Failure OpenSSL.SSL.Error: certificate verify failed>]"), "tls"),
        (DownloadFailedError("[<Failure twisted.internet.error.ConnectionLost>]"), "connection_lost"),
        (_http_error(403), "http_403"),
        (_http_error(503), "http_503"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots"),
        (IgnoreRequest("redirect loop: http://a/p/1 → http://a/p/1?loop=1 → http://a/p/1"), "redirect_loop"),
        (ValueError("a bug"), "error"),
        (KeyError("evidence"), "error"),
    ],
)
def test_failure_kinds(error: BaseException, kind: str) -> None:
    assert failure_kind(error) == kind


def _stats(**values: object) -> dict[str, object]:
    return {"pages": 3, "items": 0, "gone": 0, "failed_urls": 0, "answered": 0, "failures": {}, **values}


@pytest.mark.parametrize(
    ("stats", "status", "reason"),
    [
        (_stats(items=5, answered=6), "finished", None),
        (_stats(items=5, answered=6, failed_urls=2, failures={"timeout": 2}), "finished", None),
        (_stats(answered=1), "finished", None),  # a search that found nothing: not a failure
        (_stats(gone=3), "finished", None),  # a re-check that found every listing gone
        (
            _stats(pages=0, failed_urls=2, failures={"dns": 2}, failed_at={"dns": "https://shop.invalid"}),
            "failed",
            "DNS lookup failed for shop.invalid: is the address right?",
        ),
        (
            _stats(
                pages=1,
                failed_urls=3,
                failures={"timeout": 2, "http_503": 1},
                failed_at={"timeout": "http://shop.test", "http_503": "http://shop.test"},
            ),
            "failed",
            "timed out at http://shop.test: the site did not answer in time (and 1 other failed URL)",
        ),
        (_stats(pages=0), "failed", "nothing was fetched: the crawl had nothing to request"),
        (
            _stats(pages=1, failed_urls=1, failures={"robots": 1}, failed_at={"robots": "http://shop.test"}),
            "failed",
            "robots.txt forbids every request at http://shop.test",
        ),
    ],
)
def test_a_run_that_ended_well_has_failed_when_nothing_came_back(
    stats: dict[str, object], status: str, reason: str | None
) -> None:
    judged_status, judged_stats = judged("finished", stats)
    assert (judged_status, judged_stats.get("reason")) == (status, reason)


def test_a_stopped_run_stays_interrupted_and_a_failed_one_says_how_it_ended() -> None:
    assert judged("interrupted", _stats(pages=0)) == ("interrupted", _stats(pages=0))
    status, stats = judged("failed", _stats(items=3, finish_reason="closespider_timeout"))
    assert (status, stats["reason"]) == ("failed", "the crawl ended: closespider_timeout")


def _record(error: BaseException | None, name: str = "scrapy.core.scraper") -> logging.LogRecord:
    exc_info = (type(error), error, None) if error is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, "Error downloading %s", ("x",), exc_info)


def test_expected_network_errors_stay_off_the_terminal_and_bugs_do_not() -> None:
    keep = TerminalFilter()
    assert not keep.filter(_record(DownloadConnectionRefusedError("refused")))
    assert not keep.filter(_record(DownloadTimeoutError("slow")))
    assert not keep.filter(_record(None, "scrapy.downloadermiddlewares.retry"))  # "Gave up retrying"
    assert keep.filter(_record(ValueError("a bug in a pipeline")))
    assert keep.filter(_record(None))


def test_a_bug_shows_its_traceback_and_its_page_is_a_failed_url(
    page_server: PageServer, crawl_settings: Settings, store: Store, capfd: pytest.CaptureFixture[str]
) -> None:
    page_server.serve("/product/a", product_page({"name": "ปลั๊กพ่วง"}))
    profile = page_profile(page_server, ["/product/a"], title="h1[")  # a selector that raises
    [result] = crawl(crawl_settings, [profile], store=store)
    terminal = capfd.readouterr().err
    assert "Spider error processing" in terminal
    assert "Traceback" in terminal
    assert result.stats["failures"] == {"error": 1}
    assert result.stats["failed_urls"] == 1
