"""A crawl process's log: the whole Scrapy log in a file per run, a short one on the terminal.

Each run's log goes to ``logs/run-<id>-<worker>.log`` in the data directory (:func:`log_file`; the run's
stats name it, ``tisiwatch runs --run N`` shows it): Scrapy at INFO, tracebacks included — at DEBUG with
``-v``. The terminal gets warnings and errors, but not the expected network errors (connection refused,
DNS, time-outs, TLS, HTTP errors, robots.txt: :func:`crawler.outcome.is_expected`), which the run's
stats count by kind and its status sums up; a bug's traceback still shows. With ``-v`` the terminal
gets everything. Every line is cut at :data:`MAX_LINE` characters.

Scrapy's own log formatter puts a whole item into its "Scraped from …" and "Dropped: …" lines — a
listing with a 400 kB title makes a 400 kB line. :class:`ShortLogFormatter` names an item instead
(its listing id and URL, cut).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure

from core.text import escaped
from crawler.items import FailedUrl, Sighting
from crawler.outcome import is_expected

ITEM_CHARS = 300
MAX_LINE = 1_000
FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
QUIET_ON_TERMINAL = ("scrapy.downloadermiddlewares.retry",)
"""Loggers whose warnings and errors are expected failures (the retry middleware's "Gave up retrying")."""


def log_file(run_id: int, worker: str) -> str:
    """A run's log file (of one of its workers), relative to the data directory."""
    return f"logs/run-{run_id}-{worker}.log"


class TerminalFilter(logging.Filter):
    """Keeps expected failures off the terminal: they are counted in the run's stats and in its log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in QUIET_ON_TERMINAL and record.levelno < logging.CRITICAL:
            return False
        error = record.exc_info[1] if record.exc_info else None
        return error is None or not is_expected(error)


class RunFilter(logging.Filter):
    """The records of one run's spider (named after its site), and those of no spider in particular."""

    def __init__(self, site: str) -> None:
        super().__init__()
        self.site = site

    def filter(self, record: logging.LogRecord) -> bool:
        spider = getattr(record, "spider", None)
        return spider is None or getattr(spider, "name", None) == self.site


class ShortLines(logging.Formatter):
    """A formatter whose every line (tracebacks too) is at most :data:`MAX_LINE` characters."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(_cut(line) for line in super().format(record).splitlines())


def install(data_dir: Path, runs: Iterable[tuple[int, str, str]], verbose: bool) -> list[logging.Handler]:
    """Send this process's log to the terminal (stderr) and to a file per run (``runs``: run id,
    worker name, site); returns the handlers, to be closed when the crawl is over."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not verbose:
        terminal.addFilter(TerminalFilter())
    handlers: list[logging.Handler] = [terminal]
    for run_id, worker, site in runs:
        path = Path(data_dir) / log_file(run_id, worker)
        path.parent.mkdir(parents=True, exist_ok=True)
        into_file = logging.FileHandler(path, encoding="utf-8")
        into_file.setLevel(logging.DEBUG if verbose else logging.INFO)
        into_file.addFilter(RunFilter(site))
        handlers.append(into_file)
    for handler in handlers:
        handler.setFormatter(ShortLines(FORMAT))
        root.addHandler(handler)
    return handlers


def _cut(line: str) -> str:
    if len(line) <= MAX_LINE:
        return line
    return f"{line[:MAX_LINE]} … ({len(line) - MAX_LINE} characters cut)"


def describe(item: Any) -> str:
    """A short, printable name of an item for a log line."""
    if isinstance(item, Sighting):
        text = f"listing {item.marketplace_id[:100]!r} at {item.url[:200]}{' (gone)' if item.gone else ''}"
    elif isinstance(item, FailedUrl):
        text = f"failed URL {item.url[:200]}: {item.reason[:100]}"
    else:
        text = f"{type(item).__name__} {item!r}"
    return escaped(text[:ITEM_CHARS])


class ShortLogFormatter(LogFormatter):
    """Scrapy's log formatter, with every item named by :func:`describe`."""

    def scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult:
        result = super().scraped(item, response, spider)
        return {**result, "args": {**_args(result), "item": describe(item)}}

    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        reason = escaped(str(exception)[:ITEM_CHARS])
        return {**result, "args": {**_args(result), "item": describe(item), "exception": reason}}

    def item_error(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().item_error(item, exception, response, spider)
        return {**result, "args": {**_args(result), "item": describe(item)}}


def _args(result: LogFormatterResult) -> dict[str, Any]:
    args = result["args"]
    return dict(args) if isinstance(args, dict) else {}
