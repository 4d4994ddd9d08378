"""Slowing the whole site down when it says "too many" — and stopping when it keeps saying so.

A block signal (``crawler.blocking``: 429, 503, a ``[blocked_when]`` status, challenge URL, selector
or text) pauses the site's downloader slot — the one queue Scrapy keeps per host
(``crawler.engine.downloader.slots``) — until its ``Retry-After`` has passed. Repeated signals (7 of the
site's latest 10 answers: a page that fails now and then is no reason) start a *round of slowdown*:
the least delay between two requests (``slot.delay``) is
raised to a little above the pace the site had just tolerated (its good answers over the last
``Retry-After``, at least a second — a limit is most often per second), the requests allowed at once
(``slot.concurrency``) are halved, and the slot sends nothing until ``Retry-After`` (capped by
``crawl.retry_after_max_s``) or the new delay has passed. Every other request to the site waits in that
queue meanwhile: the whole site slows down, not one URL. The delay is kept exact while the site is
slowed down (no jitter): a site that allows N requests a second is asked at most that often.

AutoThrottle goes on adapting ``slot.delay`` to latency, and would undo a slowdown with the next fast
200; so after it (``response_downloaded`` handlers run in the order they connected, extensions first)
:class:`SiteThrottleMiddleware` puts back the delay floor and concurrency of :class:`Throttle`. The floor
comes down slowly with good answers (a little per answer, never below the pace at which the last round
began until that memory fades too), the concurrency climbs back one request at a time.

The request that met the signal is not dropped after a few quick retries: it goes back to the
scheduler and waits its turn behind the pause, up to ``crawl.block_request_rounds`` times. If the
delay has reached ``crawl.block_max_delay_s`` and signals keep coming, with no good answer between them,
for ``crawl.block_give_up_s``, the site's crawl stops with the finish reason ``blocked``: the requests not
made are left for the next run (``crawler.resume``), none of them recorded as a failed URL.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.defer import _schedule_coro

from crawler.blocking import BlockedPage, BlockedWhen, SiteBlocked, block_signal
from crawler.retry import retry_after_seconds

log = logging.getLogger(__name__)

ROUNDS = "tisiwatch_block_rounds"
"""Request meta: how many times this request met a block signal and was put back."""
SENT = "tisiwatch_sent_at"
"""Request meta: when the request left for the site (monotonic clock), set as its answer arrives."""
STEP_S = 0.01
"""The least delay floor of a slowed-down site."""
SLOWER = 1.3
"""Each round multiplies the delay floor by this."""
RECOVER = 0.98
"""Each good answer multiplies the delay floor by this…"""
FORGET = 0.9995
"""…and the memory of the delay at which the last round began by this."""
MARGIN = 1.1
"""Recovery stops this much above the delay at which the last round began (while it is remembered)."""
REPEATED = (7, 10)
"""A round of slowdown needs this many signals among the site's latest answers (7 of 10): a page that
fails now and then only waits its Retry-After; a site that refuses most requests slows down."""
ANSWERS_KEPT = 5000
"""Good answers remembered (their times), to tell the pace a site tolerates."""
CLIMB_EVERY = 10
"""Good answers in a row that give back one request at once."""
REDIRECT_META = (
    "redirect_times",
    "redirect_ttl",
    "redirect_urls",
    "redirect_reasons",
    "download_latency",
    SENT,
)
ENDS = "blocked"
"""The finish reason of a site's crawl stopped by persistent blocking."""


@dataclass
class Throttle:
    """One site's slowdown, as numbers; ``now`` is a monotonic clock in seconds."""

    max_delay_s: float
    give_up_s: float
    concurrency_cap: int
    floor: float = 0.0
    """The least delay between two requests to the site (0: not slowed down)."""
    concurrency: int = 0
    paused_until: float = 0.0
    round_at: float = -math.inf
    """When the latest round of slowdown began."""
    too_fast: float = 0.0
    """The delay at which the latest round began: recovery does not go below it until it fades."""
    rounds: int = 0
    signals: int = 0
    good_in_row: int = 0
    streak_since: float | None = None
    """The first signal since the last good answer."""
    limit_since: float | None = None
    """When the floor reached ``max_delay_s`` in the current streak of signals."""
    recent: deque[bool] = field(default_factory=lambda: deque(maxlen=REPEATED[1]))
    """Whether each of the latest answers was a signal: only repeated signals slow the site down."""
    answered: deque[float] = field(default_factory=lambda: deque(maxlen=ANSWERS_KEPT))
    """When the latest good answers came: the pace the site tolerated just before it said "too many"."""

    def __post_init__(self) -> None:
        self.concurrency = self.concurrency or self.concurrency_cap

    def signal(self, now: float, sent_at: float, delay: float, wait: float | None) -> bool:
        """A block signal for a request sent at ``sent_at`` while the site's delay was ``delay``; ``wait``
        is what ``Retry-After`` asked: the site pauses that long. Starts a new round if signals are
        repeated (:data:`REPEATED`) and the request left after the current round began (else its answer
        says nothing new). Returns whether a round began."""
        self.signals += 1
        self.good_in_row = 0
        self.recent.append(True)
        self.streak_since = self.streak_since if self.streak_since is not None else now
        if sent_at < self.round_at or sum(self.recent) < REPEATED[0]:
            self.paused_until = max(self.paused_until, now + (wait or 0.0))
            return False
        self.rounds += 1
        self.round_at = now
        self.too_fast = max(delay, self.floor, self.tolerated(now, wait))
        self.floor = min(self.max_delay_s, max(self.too_fast, STEP_S) * SLOWER)
        self.concurrency = max(1, self.concurrency // 2)
        self.paused_until = max(self.paused_until, now + max(wait or 0.0, self.floor))
        if self.floor >= self.max_delay_s and self.limit_since is None:
            self.limit_since = now
        return True

    def tolerated(self, now: float, wait: float | None) -> float:
        """The delay between requests at which the site answered well over the last ``wait`` seconds (at
        least one second: a limit is most often per second) — the pace it just refused to exceed."""
        window = min(max(wait or 0.0, 1.0), 60.0)
        good = sum(1 for at in self.answered if at > now - window)
        return window / good if good else 0.0

    def good(self, now: float) -> None:
        """An answer that is not a signal: the streak ends, and the site speeds up a little."""
        self.answered.append(now)
        self.recent.append(False)
        self.streak_since = self.limit_since = None
        self.good_in_row += 1
        if not self.floor:
            return
        self.too_fast *= FORGET
        self.floor = max(self.floor * RECOVER, self.too_fast * MARGIN)
        if self.floor < STEP_S / 2:
            self.floor = self.too_fast = 0.0
        if self.good_in_row % CLIMB_EVERY == 0:
            self.concurrency = min(self.concurrency_cap, self.concurrency + 1)

    def blocked(self, now: float) -> bool:
        """Whether the site has blocked the crawl: signals for ``give_up_s`` with the delay at its limit."""
        return self.limit_since is not None and now - self.limit_since >= self.give_up_s

    def blocked_for(self, now: float) -> float:
        """How long the current streak of signals has lasted (0 without one)."""
        return 0.0 if self.streak_since is None else now - self.streak_since


class SiteThrottleMiddleware:
    """Downloader middleware (below the redirect and compression middlewares, above the retries):
    block signals slow the site down, their requests are put back, persistent blocking stops the crawl."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.throttle = Throttle(
            max_delay_s=settings.getfloat("TISIWATCH_BLOCK_MAX_DELAY_S", 60.0),
            give_up_s=settings.getfloat("TISIWATCH_BLOCK_GIVE_UP_S", 600.0),
            concurrency_cap=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 8),
        )
        self.max_rounds = settings.getint("TISIWATCH_BLOCK_REQUEST_ROUNDS", 30)
        self.retry_after_max_s = settings.getfloat("TISIWATCH_RETRY_AFTER_MAX_S", 120.0)
        self.jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER", 0.5)
        self.stopped = False
        crawler.signals.connect(self.downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def rule(self) -> BlockedWhen | None:
        profile = getattr(self.crawler.spider, "profile", None)
        return getattr(profile, "blocked_when", None)

    def slot(self, request: Request) -> Any:
        engine = self.crawler.engine
        if engine is None or engine.downloader is None:
            return None
        return engine.downloader.slots.get(engine.downloader.get_slot_key(request))

    def downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        """As the answer arrives: note when its request left (the answer to a request sent before a
        round began says nothing new); after AutoThrottle has adjusted the slot, keep the slowdown's
        floor and concurrency."""
        request.meta[SENT] = monotonic() - float(request.meta.get("download_latency") or 0.0)
        if self.throttle.floor:
            self._apply(self.slot(request))

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        why = block_signal(response, self.rule())
        if why is None:
            self._good(request)
            return response
        now = monotonic()
        stats = self.crawler.stats
        if stats:
            stats.inc_value("tisiwatch/throttle/signals")
        if self.stopped:
            raise SiteBlocked(f"{why}: the site's crawl has stopped")
        slot = self.slot(request)
        wait = None
        if response.status in (429, 503):
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
            wait = None if asked is None else min(asked, self.retry_after_max_s)
            if wait is not None and stats:
                stats.inc_value("tisiwatch/retry_after_honoured")
        sent_at = float(request.meta.get(SENT, now))
        delay = slot.delay if slot is not None else 0.0
        if self.throttle.signal(now, sent_at, delay, wait):
            if stats:
                stats.inc_value("tisiwatch/throttle/rounds")
                stats.max_value("tisiwatch/throttle/max_delay_s", round(self.throttle.floor, 3))
            log.info(
                "%s at %s: the site slows down to one request per %.2f s",
                why,
                response.url,
                self.throttle.floor,
            )
        self._apply(slot, pause=True)
        if self.throttle.blocked(now):
            self._stop(why, now)
            raise SiteBlocked(f"{why}: the site's crawl has stopped")
        rounds = int(request.meta.get(ROUNDS, 0))
        if rounds >= self.max_rounds:
            if stats:
                stats.inc_value("tisiwatch/throttle/given_up")
            if response.status >= 400:
                return response  # its HTTP error reaches the spider's errback: a failed URL
            raise BlockedPage(f"{why}, still after {rounds} rounds of slowdown")
        if stats:
            stats.inc_value("tisiwatch/throttle/rescheduled")
        return again(request, rounds + 1)

    def _good(self, request: Request) -> None:
        slowed = bool(self.throttle.floor)
        self.throttle.good(monotonic())
        if slowed:
            self._apply(self.slot(request))

    def _apply(self, slot: Any, pause: bool = False) -> None:
        """Hold the slot to the slowdown: its delay floor, exact (no jitter: the floor is what the site
        tolerates), its concurrency; with ``pause``, no request before the pause ends (``slot.lastseen``
        in the future: the slot's queue waits until then)."""
        if slot is None:
            return
        floor = self.throttle.floor
        slot.delay = max(slot.delay, floor) if floor else slot.delay
        slot.jitter = 0.0 if floor else self.jitter
        slot.concurrency = self.throttle.concurrency
        if pause:
            slot.lastseen = max(slot.lastseen, self.throttle.paused_until - slot.delay)

    def _stop(self, why: str, now: float) -> None:
        """Stop the site's crawl for this run: what is still queued is left for the next run."""
        self.stopped = True
        engine = self.crawler.engine
        scheduler = getattr(engine, "scheduler", None)
        queued = len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else 0
        in_flight = len(engine.downloader.active) if engine is not None and engine.downloader else 0
        if self.crawler.stats:
            stats = self.crawler.stats
            stats.set_value("tisiwatch/blocked/left", queued + in_flight)
            stats.set_value("tisiwatch/blocked/for_s", round(self.throttle.blocked_for(now), 1))
            stats.set_value("tisiwatch/blocked/signals", self.throttle.signals)
            stats.set_value("tisiwatch/blocked/delay_s", round(self.throttle.floor, 2))
            stats.set_value("tisiwatch/blocked/why", why)
        log.warning(
            "%s: blocked (%s for %.0f s at one request per %.0f s): the crawl of the site stops for this run",
            getattr(self.crawler.spider, "name", "?"), why, self.throttle.blocked_for(now), self.throttle.floor,
        )  # fmt: skip
        _schedule_coro(engine.close_spider_async(reason=ENDS))


def again(request: Request, rounds: int) -> Request:
    """The request put back after a block signal: the URL first asked for (before any redirect to a
    challenge page), not filtered as a duplicate, its rounds counted. A browser page kept for the
    callback (``playwright_include_page``) is closed: the callback never sees the challenge."""
    meta = {k: v for k, v in request.meta.items() if k not in REDIRECT_META}
    page = meta.pop("playwright_page", None)
    if page is not None:
        _schedule_coro(page.close())
    original = (request.meta.get("redirect_urls") or [request.url])[0]
    return request.replace(url=original, dont_filter=True, meta={**meta, ROUNDS: rounds})
