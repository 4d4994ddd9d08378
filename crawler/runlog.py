"""A crawl process's log lines: short, whatever a page holds.

Scrapy's own log formatter puts a whole item into its "Scraped from …" and "Dropped: …" lines — a
listing with a 400 kB title makes a 400 kB line. :class:`ShortLogFormatter` names an item instead
(its listing id and URL, cut).
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure

from crawler.items import FailedUrl, Sighting
from crawler.limits import escaped

ITEM_CHARS = 300


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
