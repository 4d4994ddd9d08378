"""scrapy-redis 0.9.1 under Scrapy 2.19: the small adjustments it needs, kept apart to be dropped later.

1. scrapy-redis' scheduler passes ``spider=`` to the stats collector and logs through
   ``Spider.log()``, both deprecated by Scrapy 2.19 (a ``ScrapyDeprecationWarning`` on every
   request, and when a worker joins a queue that already holds requests). :class:`RedisScheduler`
   is scrapy-redis' scheduler with those calls made the current way; the rest is scrapy-redis' own.
2. Scrapy has no public way to ask the engine to look at its scheduler now: it looks when a download
   ends and on a 5-second heartbeat. A worker waiting for other workers to fill the shared queue
   would pick new work up only every 5 seconds; :func:`wake_engine` asks for the engine's next look
   at once, and does nothing (the heartbeat still works) if a Scrapy version no longer has the hook.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.http import Request
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler


class RedisScheduler(Scheduler):
    """scrapy-redis' ``Scheduler`` without the deprecated ``spider=`` stats argument and ``Spider.log()``."""

    df: Any
    queue: Any
    spider: Spider

    def open(self, spider: Spider) -> None:
        self.spider = spider
        key = self.queue_key % {"spider": spider.name}
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=key, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        if len(self.queue):
            spider.logger.info("joining a crawl with %s requests queued", len(self.queue))

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request: Request | None = self.queue.pop(self.idle_before_close)
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


def wake_engine(engine: Any) -> bool:
    """Ask Scrapy's engine to take requests from its scheduler now; False if this Scrapy cannot."""
    nextcall = getattr(getattr(engine, "_slot", None), "nextcall", None)
    if nextcall is None:
        return False
    nextcall.schedule()
    return True
