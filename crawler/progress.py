"""Progress reporting from a crawl process: a Scrapy extension that sends counts to the parent.

The crawl process writes them as JSON lines to its stdout (see ``crawler.worker``); the parent (the
CLI, with a Rich progress bar, or plain log lines) reads them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Self

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from scrapy import Spider, signals
from scrapy.crawler import Crawler

log = logging.getLogger("tisiwatch.crawl")

SINK: Callable[[dict[str, Any]], None] | None = None
"""Where the running crawl process sends progress events (set by ``crawler.worker``), or None."""
INTERVAL_S = 0.5


class ProgressExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.last = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        for signal in (signals.response_received, signals.item_scraped, signals.item_dropped):
            crawler.signals.connect(extension.tick, signal=signal)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def snapshot(self, spider: Spider, done: bool = False) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        errors = sum(
            v for k, v in stats.items() if k.startswith(("downloader/exception_count", "spider_exceptions/"))
        )
        return {
            "site": spider.name,
            "pages": stats.get("response_received_count", 0),
            "items": stats.get("item_scraped_count", 0),
            "errors": errors + stats.get("tisiwatch/failed_urls", 0),
            "done": done,
        }

    def tick(self, *args: Any, spider: Spider, **kwargs: Any) -> None:
        now = time.monotonic()
        if SINK is not None and now - self.last >= INTERVAL_S:
            self.last = now
            SINK(self.snapshot(spider))

    def closed(self, spider: Spider, reason: str) -> None:
        if SINK is not None:
            SINK(self.snapshot(spider, done=True))


class CrawlProgress:
    """The parent's view of a crawl: a Rich progress display on a terminal, plain log lines otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.progress = Progress(
            TextColumn("[bold]{task.fields[site]}"),
            SpinnerColumn(),
            TextColumn(
                "{task.fields[items]} listings · {task.fields[pages]} pages · {task.fields[errors]} errors"
            ),
            TimeElapsedColumn(),
            TextColumn("{task.fields[rate]}/s"),
            console=console,
            disable=not self.live,
        )
        self.tasks: dict[str, TaskID] = {}
        self.started = time.monotonic()
        self.last_line = 0.0

    def __enter__(self) -> CrawlProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def update(self, event: dict[str, Any]) -> None:
        site = str(event["site"])
        rate = f"{event['items'] / max(time.monotonic() - self.started, 1e-6):.0f}"
        fields = {
            "site": site,
            "items": event["items"],
            "pages": event["pages"],
            "errors": event["errors"],
            "rate": rate,
        }
        if site not in self.tasks:
            self.tasks[site] = self.progress.add_task(site, total=None, **fields)
        self.progress.update(self.tasks[site], **fields)
        if event.get("done"):
            self.progress.update(self.tasks[site], total=1, completed=1)
        if not self.live and (event.get("done") or time.monotonic() - self.last_line > 5):
            self.last_line = time.monotonic()
            log.info(
                "%s: %s listings, %s pages, %s errors%s",
                site,
                event["items"],
                event["pages"],
                event["errors"],
                " (done)" if event.get("done") else "",
            )
