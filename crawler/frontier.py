"""One frontier for all the crawl workers of a run: its request queue and dupefilter in Redis.

The keys are scoped per run — ``<prefix>:run:<id>:requests`` (a sorted set, by priority),
``:dupefilter`` (request fingerprints) and ``:workers`` (which workers are busy) — so a later crawl
of the same site (a re-check) fetches the same URLs again. Workers keep the keys when they stop
(``SCHEDULER_PERSIST``): a worker that starts late must still find its start requests already
seen. The parent deletes them once every worker has ended (:func:`delete_frontier`).

A worker must not stop while another may still add requests. Scrapy finds a spider idle when its
own downloads are done and the scheduler is empty, but with a shared queue another worker may be
half-way through a result page that will add fifty listing pages. So a worker marks itself busy
in the ``:workers`` hash at the moment it takes a request from the queue (one Lua script pops and
marks), refreshes the mark every few seconds while busy, and clears it when Scrapy finds it idle.
An idle worker stops only when, in one atomic look, the queue is empty and no worker is marked
busy: then no request is held anywhere that could add more. Until then it keeps the spider open
(``DontCloseSpider``) and looks again every half second. A mark older than ``stale_s`` belongs to
a dead worker and is ignored (the parent clears a dead worker's mark at once, :func:`forget_worker`);
an idle worker waits ``idle_timeout_s`` at most (stopping early is safe: the busy workers finish
the queue). scrapy-redis' own ``SCHEDULER_IDLE_BEFORE_CLOSE`` cannot do this: it blocks the reactor
in a ``BRPOP`` (list queues only) and cannot tell a busy worker from a finished one.

scrapy-redis pickles the queued requests, so the Redis server must be one the installation trusts.
If the parent itself is killed, the keys stay until the run is resumed (which starts it afresh).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Self

import redis
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.reactor import CallLaterOnce
from scrapy_redis.queue import PriorityQueue

from crawler.compat import RedisScheduler, wake_engine

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
POLL_S = 0.5
STALE_S = 60.0
POP_AND_MARK = """
local popped = redis.call('ZRANGE', KEYS[1], 0, 0)
if #popped == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return popped[1]
"""


@dataclass(frozen=True)
class RunKeys:
    """The Redis keys of one run's frontier."""

    prefix: str
    run_id: int

    @property
    def requests(self) -> str:
        return f"{self.prefix}:run:{self.run_id}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.prefix}:run:{self.run_id}:dupefilter"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:run:{self.run_id}:workers"

    def all(self) -> list[str]:
        return [self.requests, self.dupefilter, self.workers]


def frontier_settings(redis_url: str, keys: RunKeys, idle_timeout_s: float) -> dict[str, Any]:
    """The Scrapy settings that put a worker's scheduler and dupefilter on the run's shared frontier."""
    return {
        "SCHEDULER": "crawler.frontier.FrontierScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.frontier.FrontierQueue",
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": redis_url,
        "TISIWATCH_FRONTIER_WORKERS_KEY": keys.workers,
        "TISIWATCH_FRONTIER_IDLE_TIMEOUT_S": idle_timeout_s,
    }


def delete_frontier(redis_url: str, keys: RunKeys) -> int:
    """Delete a run's frontier (when the run ends, or before a resumed run starts a fresh one)."""
    server = redis.Redis.from_url(redis_url)
    try:
        return int(server.delete(*keys.all()))
    finally:
        server.close()


def forget_worker(redis_url: str, keys: RunKeys, worker: str) -> None:
    """Clear a worker's busy mark once its process has ended (killed: the mark was never cleared),
    so that the other workers need not wait for the mark to grow stale."""
    server = redis.Redis.from_url(redis_url)
    try:
        server.hdel(keys.workers, worker)
    finally:
        server.close()


class FrontierQueue(PriorityQueue):
    """scrapy-redis' priority queue whose pop also marks the popping worker busy, atomically."""

    busy_key = ""
    worker = ""
    script: Any = None

    def mark_pops(self, busy_key: str, worker: str) -> None:
        self.busy_key, self.worker = busy_key, worker
        self.script = self.server.register_script(POP_AND_MARK)

    def pop(self, timeout: float = 0) -> Request | None:
        data = self.script(keys=[self.key, self.busy_key], args=[self.worker, time.time()])
        return self._decode_request(data) if data else None


class FrontierScheduler(RedisScheduler):
    """The shared-frontier scheduler: busy marks, and an idle worker that waits for busy ones."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = super().from_crawler(crawler)
        scheduler.attach(crawler)
        return scheduler

    def attach(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.worker = settings.get("TISIWATCH_WORKER") or "w0"
        self.busy_key = settings.get("TISIWATCH_FRONTIER_WORKERS_KEY")
        self.idle_timeout_s = settings.getfloat("TISIWATCH_FRONTIER_IDLE_TIMEOUT_S", 120.0)
        self.stale_s = settings.getfloat("TISIWATCH_FRONTIER_STALE_S", STALE_S)
        self.busy = False
        self.waiting_since: float | None = None
        self.look_again = CallLaterOnce(self._wake)
        self.heartbeat = create_looping_call(self._beat)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.queue.mark_pops(self.busy_key, self.worker)
        self._mark_busy()  # busy from the start: its start requests may still add work
        self.heartbeat.start(HEARTBEAT_S, now=False)

    def close(self, reason: str) -> None:
        if self.heartbeat.running:
            self.heartbeat.stop()
        self.look_again.cancel()
        self.server.hdel(self.busy_key, self.worker)
        super().close(reason)

    def next_request(self) -> Request | None:
        request = super().next_request()
        if request is not None:  # the queue's pop has marked this worker busy
            self.busy, self.waiting_since = True, None
        return request

    def _wake(self) -> None:
        try:
            engine = self.crawler.engine
        except RuntimeError:  # not crawling (yet)
            return
        wake_engine(engine)

    def _mark_busy(self) -> None:
        self.busy = True
        self.server.hset(self.busy_key, self.worker, time.time())

    def _beat(self) -> None:
        if self.busy:
            self.server.hset(self.busy_key, self.worker, time.time())

    def spider_idle(self, spider: Spider) -> None:
        """Let the spider close only when the whole run is out of work (see the module doc)."""
        self.busy = False
        with self.server.pipeline(transaction=True) as pipe:
            pipe.hdel(self.busy_key, self.worker)
            pipe.zcard(self.queue.key)
            pipe.hgetall(self.busy_key)
            _, queued, marks = pipe.execute()
        now = time.time()
        busy = sorted(w.decode() for w, at in marks.items() if now - float(at) < self.stale_s)
        if not queued and not busy:
            return
        if queued:
            self.look_again.schedule(0)
        else:
            self.waiting_since = self.waiting_since or now
            if now - self.waiting_since > self.idle_timeout_s:
                log.warning(
                    "worker %s stops after waiting %.0f s for %s", self.worker, self.idle_timeout_s, busy
                )
                return
            self.look_again.schedule(POLL_S)
        raise DontCloseSpider
