"""Scale-out on the real engines: several crawl workers share one frontier in Redis and write to one
PostgreSQL database; the idle handling, the scrapy-redis shim, worker names and merged stats."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from scrapy import Spider
from scrapy.core.engine import ExecutionEngine, _Slot
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select
from typer.testing import CliRunner

import cli
from config import Settings, load_settings
from crawler.compat import wake_engine
from crawler.frontier import FrontierScheduler, RunKeys, frontier_settings
from crawler.profile import load_profile
from crawler.runner import CrawlRequestError, CrawlResult, crawl
from crawler.scaleout import ProgressRelay, settle_run, worker_name, worker_settings
from crawler.settings import scrapy_settings
from demo.generator import generate
from demo.server import ShopsHandle, start_shops
from store.db import Store
from store.models import CrawlRun, Listing, Observation
from store.writer import ensure_site, record_worker_stats, start_run
from tests.conftest import REDIS_URL

SEED, SIZE = 7, 300


def _redis_problem() -> str | None:
    try:
        server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        server.ping()
        server.close()
    except Exception as exc:  # any failure to reach the server means: skip, and say why
        return f"Redis at {REDIS_URL} is not reachable ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the test Redis database; its keys are deleted afterwards."""
    problem = _redis_problem()
    if problem:
        pytest.skip(problem)
    prefix = f"tisiwatch-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    server = redis.Redis.from_url(REDIS_URL)
    leftovers = list(server.scan_iter(f"{prefix}:*"))
    if leftovers:
        server.delete(*leftovers)
    server.close()


def _keys(prefix: str) -> list[bytes]:
    server = redis.Redis.from_url(REDIS_URL)
    try:
        return list(server.scan_iter(f"{prefix}:*"))
    finally:
        server.close()


@pytest.fixture
def big_shop() -> Iterator[ShopsHandle]:
    with start_shops(seed=SEED, size=SIZE, day=1) as handle:
        yield handle


def _settings(tmp_path: Path, database_url: str, prefix: str, **crawl: Any) -> Settings:
    crawl = {"retries": 2, "redis_url": REDIS_URL, "redis_prefix": prefix, **crawl}
    return load_settings(
        overrides={"data_dir": str(tmp_path), "database": {"url": database_url}, "crawl": crawl}, environ={}
    )


def _assert_every_listing_once(store: Store, result: CrawlResult) -> None:
    expected = {
        i.item_id for i in generate(seed=SEED, size=SIZE, day=1) if i.shop == "html" and i.active_on(1)
    }
    with store.session() as session:
        assert sorted(session.scalars(select(Listing.marketplace_id))) == sorted(expected)
        counts = session.execute(
            select(func.count(), func.count(func.distinct(Observation.listing_id))).where(
                Observation.run_id == result.run_id
            )
        ).one()
    assert tuple(counts) == (len(expected), len(expected))  # one observation per listing
    assert result.status == "finished"
    assert result.stats["items"] == len(expected)


@pytest.mark.redis
@pytest.mark.postgres
def test_two_workers_share_one_frontier_and_store_every_listing_once(
    big_shop: ShopsHandle, tmp_path: Path, postgres_store: Store, redis_prefix: str
) -> None:
    settings = _settings(tmp_path, postgres_store.url, redis_prefix, delay_s=0.01)
    profile = load_profile("demo-html").with_base_url(big_shop.urls["html"])
    events: list[dict[str, Any]] = []
    [result] = crawl(
        settings, [profile], queries=[], workers=2, store=postgres_store, on_progress=events.append
    )
    _assert_every_listing_once(postgres_store, result)
    workers = result.stats["workers"]
    assert set(workers) == {"w0", "w1"}
    assert all(entry["pages"] > 0 and entry["final"] for entry in workers.values())  # both did work
    assert result.stats["pages"] == sum(entry["pages"] for entry in workers.values())
    assert events[-1]["done"]
    assert events[-1]["items"] >= result.stats["items"]  # progress counts failed URLs too
    assert _keys(redis_prefix) == []  # the run's frontier is deleted when the run ends


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the crawl processes through /proc")
def test_a_killed_worker_leaves_the_run_interrupted_and_two_workers_resume_it(
    big_shop: ShopsHandle, tmp_path: Path, postgres_store: Store, redis_prefix: str
) -> None:
    settings = _settings(tmp_path, postgres_store.url, redis_prefix, delay_s=0.02)
    profile = load_profile("demo-html").with_base_url(big_shop.urls["html"])
    results: list[CrawlResult] = []
    parent = threading.Thread(
        target=lambda: results.extend(crawl(settings, [profile], queries=[], workers=2, store=postgres_store))
    )
    parent.start()
    try:
        deadline = time.monotonic() + 60
        while _stored(postgres_store) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        victim = max(_crawl_workers())
        os.kill(victim, signal.SIGKILL)
    finally:
        parent.join(90)
    [killed] = results
    assert (
        killed.status == "interrupted"
    )  # the other worker finished the queue; what the killed one held is lost
    assert _keys(redis_prefix) == []

    fast = _settings(tmp_path, postgres_store.url, redis_prefix)
    [result] = crawl(fast, [profile], queries=[], workers=2, store=postgres_store, resume=True)
    assert result.run_id == killed.run_id
    _assert_every_listing_once(postgres_store, result)
    assert {"w0-r1", "w1-r1"} <= set(result.stats["workers"])
    assert _keys(redis_prefix) == []


def _stored(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Listing)) or 0


def _crawl_workers() -> list[int]:
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            if b"crawler.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(int(pid))
    return pids


def test_more_than_one_worker_needs_redis(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CrawlRequestError, match="redis_url"):
        crawl(settings, [], workers=2)
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.delenv("TISIWATCH_CRAWL_REDIS_URL", raising=False)
    Store(settings.database_url).migrate()  # what `tisiwatch init` does
    options = ["--data-dir", str(settings.data_dir), "crawl", "demo-html", "--workers", "2"]
    result = CliRunner().invoke(cli.app, options)
    assert result.exit_code == 1
    assert "need crawl.redis_url" in result.output


# --- the frontier's idle handling and the scrapy-redis shim, on the real Redis


class _Spider(Spider):
    name = "shop"

    def parse(self, response: Any) -> None:
        pass


def _scheduler(prefix: str, worker: str, run_id: int = 1) -> FrontierScheduler:
    keys = RunKeys(prefix, run_id)
    crawler = get_crawler(
        _Spider, {**frontier_settings(REDIS_URL, keys, idle_timeout_s=30.0), "TISIWATCH_WORKER": worker}
    )
    crawler.spider = _Spider.from_crawler(crawler)
    scheduler = FrontierScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


def _in_a_loop(test: Callable[[], None]) -> None:
    """Run ``test`` inside a running asyncio loop, as Scrapy's timers need."""

    async def main() -> None:
        test()

    asyncio.run(main())


@pytest.mark.redis
def test_an_idle_worker_waits_while_another_is_busy_and_stops_when_all_are_idle(redis_prefix: str) -> None:
    _in_a_loop(lambda: _two_workers_meet_idleness(redis_prefix))


def _two_workers_meet_idleness(redis_prefix: str) -> None:
    first, second = _scheduler(redis_prefix, "w0"), _scheduler(redis_prefix, "w1")
    server = redis.Redis.from_url(REDIS_URL)
    marks = RunKeys(redis_prefix, 1).workers
    assert first.enqueue_request(Request("http://shop.test/search?q=x"))
    assert not second.enqueue_request(Request("http://shop.test/search?q=x"))  # one dupefilter for both
    for scheduler in (first, second):
        with pytest.raises(DontCloseSpider):
            scheduler.spider_idle(scheduler.spider)  # the queue holds a request
    assert server.hkeys(marks) == []  # both idle now
    assert second.next_request() is not None
    assert server.hkeys(marks) == [b"w1"]  # marked busy by the same atomic pop
    assert first.next_request() is None
    with pytest.raises(DontCloseSpider):
        first.spider_idle(first.spider)  # nothing queued, but w1 may still add requests
    second.spider_idle(second.spider)  # nothing queued, nobody busy: w1 may stop
    first.spider_idle(first.spider)  # and so may w0
    assert first.stats is not None
    assert first.stats.get_value("scheduler/enqueued/redis") == 1
    for scheduler in (first, second):
        scheduler.close("finished")
    assert set(_keys(redis_prefix)) == {RunKeys(redis_prefix, 1).dupefilter.encode()}  # kept for late workers
    server.close()


@pytest.mark.redis
def test_a_stale_busy_mark_is_ignored_and_waiting_has_a_limit(redis_prefix: str) -> None:
    _in_a_loop(lambda: _stale_marks_and_waiting(redis_prefix))


def _stale_marks_and_waiting(redis_prefix: str) -> None:
    scheduler = _scheduler(redis_prefix, "w0")
    server = redis.Redis.from_url(REDIS_URL)
    keys = RunKeys(redis_prefix, 1)
    server.hset(keys.workers, "w9", time.time() - 3600)  # a worker that died an hour ago
    scheduler.spider_idle(scheduler.spider)  # not waited for
    server.hset(keys.workers, "w9", time.time())
    scheduler.waiting_since = time.time() - 31  # waited longer than idle_timeout_s
    scheduler.spider_idle(scheduler.spider)  # stops anyway: the busy worker finishes the queue
    scheduler.close("finished")
    server.close()


def test_the_engine_can_still_be_woken() -> None:
    """Guards the shim: Scrapy's engine keeps a slot with ``nextcall`` (else we fall back to its heartbeat)."""
    engine = ExecutionEngine(get_crawler(_Spider), lambda _: None)
    assert hasattr(engine, "_slot")
    assert "nextcall" in _Slot.__init__.__code__.co_varnames
    assert not wake_engine(engine)  # no spider open: nothing to wake

    class Call:
        scheduled = 0

        def schedule(self) -> None:
            self.scheduled += 1

    class Slot:
        nextcall = Call()

    engine._slot = Slot()  # type: ignore[assignment]
    assert wake_engine(engine)
    assert Slot.nextcall.scheduled == 1


# --- names, settings, progress and stats of the workers of a run


def test_every_worker_process_gets_its_own_name_in_its_scrapy_settings() -> None:
    settings = load_settings(overrides={"crawl": {"redis_url": REDIS_URL, "redis_prefix": "tw"}}, environ={})
    profile = load_profile("demo-html")
    names = [worker_name(0), worker_name(1), worker_name(0, resumes=1), worker_name(1, resumes=2)]
    assert names == ["w0", "w1", "w0-r1", "w1-r2"]
    composed = [
        scrapy_settings(
            settings, profile, {"run_id": 7, "site_id": 1, "worker": name, "resume": True}, "sqlite://", 0
        )
        for name in names
    ]
    assert [c["TISIWATCH_WORKER"] for c in composed] == names
    first = composed[0]
    assert first["SCHEDULER_QUEUE_KEY"] == "tw:run:7:requests"
    assert first["SCHEDULER_DUPEFILTER_KEY"] == "tw:run:7:dupefilter"
    assert first["SPIDER_MIDDLEWARES"]["crawler.resume.ResumeGuardMiddleware"] == 840
    assert first["SPIDER_MIDDLEWARES"]["crawler.guard.TrapGuardMiddleware"] == 850  # layers merge
    split = worker_settings(settings.model_copy(update={"crawl": settings.crawl.model_copy(update={"delay_s": 0.5})}),
                            profile, {"run_id": 7, "worker": "w1", "workers": 2})  # fmt: skip
    # the site's politeness is shared: half the concurrency each, twice the delay
    assert split["CONCURRENT_REQUESTS_PER_DOMAIN"] == first["CONCURRENT_REQUESTS_PER_DOMAIN"] // 2 == 4
    assert split["DOWNLOAD_DELAY"] == 1.0
    plain = worker_settings(load_settings(environ={}), profile, {"run_id": 7})
    assert plain == {
        "TISIWATCH_WORKER": "w0",
        "TISIWATCH_CLOSES_RUN": True,
    }  # one worker, no Redis: as before


def test_progress_of_the_workers_is_summed_per_site() -> None:
    seen: list[dict[str, Any]] = []
    relay = ProgressRelay(2, seen.append)
    relay(0, {"site": "shop", "pages": 3, "items": 2, "errors": 0, "done": False})
    relay(1, {"site": "shop", "pages": 4, "items": 4, "errors": 1, "done": True})
    assert seen[-1] == {"site": "shop", "pages": 7, "items": 6, "errors": 1, "done": False, "workers": 2}
    relay(0, {"site": "shop", "pages": 5, "items": 3, "errors": 0, "done": True})
    assert seen[-1]["done"]
    assert seen[-1]["items"] == 7


@pytest.mark.parametrize(
    ("entries", "status"),
    [
        ({"w0": "finished", "w1": "finished"}, "finished"),
        ({"w0": "finished", "w1": None}, "interrupted"),  # w1 was killed: resumable
        ({"w0": "finished", "w1": "shutdown"}, "interrupted"),
        ({"w0": "cancelled", "w1": None}, "failed"),
    ],
)
def test_the_parent_closes_a_run_of_several_workers(
    sqlite_store: Store, entries: dict[str, str | None], status: str
) -> None:
    with sqlite_store.session() as session:
        run_id = start_run(session, ensure_site(session, "shop", "html")).id
        for worker, reason in entries.items():
            entry = {"pages": 2, "items": 1, "final": reason is not None}
            record_worker_stats(
                session, run_id, worker, entry if reason is None else {**entry, "finish_reason": reason}
            )
        assert settle_run(session, run_id, list(entries)) == status
        run = session.get_one(CrawlRun, run_id)
        session.refresh(run)
    assert run.status == status
    assert run.stats["pages"] == 4
    assert run.stats["items"] == 2
    assert ("error" in run.stats) == (None in entries.values())
