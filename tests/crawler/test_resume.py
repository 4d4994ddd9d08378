"""A crawl killed with SIGKILL and started again: no listing lost, none duplicated.

"None duplicated" means: one listings row per (site, marketplace id), exactly one observation per
listing in the run (across the killed and the resumed process), every failed URL recorded once,
and no listing page fetched again once its listing was stored (the resumed worker skips them all).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

import cli
from config import Settings, load_settings
from crawler.items import Sighting
from crawler.pipelines import StorePipeline
from crawler.profile import load_profile
from crawler.resume import Plan, RunRecord, reopen, resumable_run
from crawler.runner import CrawlResult, crawl
from crawler.tally import closing_stats, run_totals, status_after, worker_summary
from demo.generator import generate
from demo.server import ShopsHandle, start_shops
from store.db import Store
from store.models import CrawlFailure, CrawlRun, Listing, Observation
from store.writer import ensure_site, record_failure, record_worker_stats, start_run, store_sightings

ROOT = Path(__file__).resolve().parents[2]
SEED, SIZE = 7, 400
DELAY_S = 0.02  # about 50 pages a second: the crawl of the shop takes several seconds


@pytest.fixture
def big_shop() -> Iterator[ShopsHandle]:
    with start_shops(seed=SEED, size=SIZE, day=1) as handle:
        yield handle


def _live_ids() -> set[str]:
    return {
        item.item_id
        for item in generate(seed=SEED, size=SIZE, day=1)
        if item.shop == "html" and item.active_on(1)
    }


def _stored(store: Store) -> int:
    try:
        with store.session() as session:
            return session.scalar(select(func.count()).select_from(Listing)) or 0
    except OperationalError:  # the crawl command has not created the tables yet
        return 0


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _assert_resumed_without_loss_or_duplicates(
    store: Store, result: CrawlResult, stored_before: int, shops: ShopsHandle
) -> None:
    expected = _live_ids()
    assert result.status == "finished"
    assert result.resumed
    with store.session() as session:
        listings = list(session.scalars(select(Listing.marketplace_id)))
        assert sorted(listings) == sorted(expected)  # none lost, one row each
        per_listing = session.execute(
            select(Observation.listing_id, func.count()).group_by(Observation.listing_id)
        ).all()
        assert len(per_listing) == len(expected)
        assert {count for _, count in per_listing} == {1}  # observed once in the run
        assert set(session.scalars(select(Observation.run_id))) == {result.run_id}
        assert session.scalar(select(func.count()).select_from(CrawlRun)) == 1
        ghost = shops.faults["html"]["missing"]
        [failure] = session.scalars(select(CrawlFailure.url))  # recorded once, before or after the kill
        assert failure.endswith(ghost)
    stats = result.stats
    assert stats["resumes"] == 1
    assert set(stats["workers"]) == {"w0", "w0-r1"}
    assert not stats["workers"]["w0"]["final"]
    resumed = stats["workers"]["w0-r1"]
    # every listing stored before the kill was rediscovered and skipped, not fetched again
    assert resumed["resume_skipped"]["stored"] == stored_before
    assert resumed["items"] == len(expected) - stored_before
    assert stats["items"] == len(expected)  # the killed worker's committed count plus the resumed one's
    assert "plan" not in stats


def test_a_crawl_whose_process_group_is_killed_resumes_without_loss_or_duplicates(
    big_shop: ShopsHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole `tisiwatch crawl` (command and crawl process) dies by SIGKILL: the run stays `running`."""
    data_dir = tmp_path / "data"
    env = {**os.environ, "TISIWATCH_CRAWL_DELAY_S": str(DELAY_S), "TISIWATCH_CRAWL_RETRIES": "2"}
    monkeypatch.setenv("TISIWATCH_CRAWL_RETRIES", "2")  # and for the resuming command, run in this process
    command = [sys.executable, "-m", "cli", "--data-dir", str(data_dir), "crawl", "demo-html"]
    command += ["--base-url", big_shop.urls["html"]]
    settings = load_settings(overrides={"data_dir": str(data_dir), "crawl": {"retries": 2}}, environ={})
    Store(settings.database_url).migrate()  # what `tisiwatch init` does
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        store = Store(settings.database_url)
        _wait_for(lambda: _stored(store) > 40 or process.poll() is not None, "a few stored batches")
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
    stored_before = _stored(store)
    assert 0 < stored_before < len(_live_ids())
    with store.session() as session:
        [run] = session.scalars(select(CrawlRun))
        assert run.status == "running"  # nobody was left to close it

    monkeypatch.setattr(cli, "state", cli.State())
    resumed = CliRunner().invoke(
        cli.app,
        ["--data-dir", str(data_dir), "crawl", "demo-html", "--base-url", big_shop.urls["html"], "--resume",
         "--query", "ignored: the run's own plan is resumed"],
    )  # fmt: skip
    assert resumed.exit_code == 0, resumed.output
    assert "(resumed) finished" in resumed.output
    with store.session() as session:
        run = session.scalars(select(CrawlRun)).one()
        result = CrawlResult("demo-html", run.id, run.status, run.stats, resumed=True)
    _assert_resumed_without_loss_or_duplicates(store, result, stored_before, big_shop)
    store.dispose()


def _crawl_workers() -> list[int]:
    """The crawl processes this test process started (Linux: /proc)."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"crawler.worker" in cmdline:
                pids.append(int(pid))
    return pids


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the crawl process through /proc")
def test_a_crawl_whose_worker_is_killed_is_interrupted_then_resumed(
    big_shop: ShopsHandle, tmp_path: Path
) -> None:
    """Only the crawl process dies: the parent marks the run `interrupted`, and it resumes."""
    settings = load_settings(
        overrides={"data_dir": str(tmp_path), "crawl": {"retries": 2, "delay_s": DELAY_S}}, environ={}
    )
    store = Store(settings.database_url)
    store.migrate()
    profile = load_profile("demo-html").with_base_url(big_shop.urls["html"])
    results: list[CrawlResult] = []
    parent = threading.Thread(
        target=lambda: results.extend(crawl(settings, [profile], queries=[], store=store))
    )
    parent.start()
    try:
        _wait_for(lambda: _stored(store) > 40, "a few stored batches")
        [worker] = _crawl_workers()
        os.kill(worker, signal.SIGKILL)
    finally:
        parent.join(60)
    [killed] = results
    assert killed.status == "interrupted"
    assert "ended abnormally" in killed.stats["error"]
    assert "plan" in killed.stats  # kept: the run can be resumed
    stored_before = _stored(store)

    fast = settings.model_copy(update={"crawl": settings.crawl.model_copy(update={"delay_s": 0.0})})
    [result] = crawl(fast, [profile], queries=[], resume=True, store=store)
    assert result.run_id == killed.run_id
    _assert_resumed_without_loss_or_duplicates(store, result, stored_before, big_shop)
    [again] = crawl(fast, [profile], queries=[], resume=True, store=store, max_items=3)
    assert not again.resumed  # the latest run finished: a new run starts
    assert again.run_id != result.run_id
    store.dispose()


# --- the parts, without a crawl


def test_a_run_is_resumable_until_it_ends_and_reopening_counts_resumptions(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        site = ensure_site(session, "shop", "html")
        run = start_run(session, site)
        run.stats = {"plan": Plan(["ปลั๊กพ่วง"], [], 10).as_stats()}
        session.flush()
        assert resumable_run(session, site.id) is run
        assert reopen(session, run) == 1
        assert reopen(session, run) == 2
        assert Plan.of(run.stats) == Plan(["ปลั๊กพ่วง"], [], 10)
        run.status = "finished"
        session.flush()
        assert resumable_run(session, site.id) is None
        interrupted = start_run(session, site)
        interrupted.status = "interrupted"
        session.flush()
        assert resumable_run(session, site.id) is interrupted


def test_the_run_record_holds_observed_listings_and_failed_urls(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        site = ensure_site(session, "shop", "html")
        run, other = start_run(session, site), start_run(session, site)
        store_sightings(session, site, run.id, [Sighting("p1", "http://shop/p/1", title="a")])
        store_sightings(session, site, other.id, [Sighting("p2", "http://shop/p/2", title="b")])
        record_failure(session, run.id, "http://shop/p/9", "HTTP 500", 500)
        record = RunRecord.load(session, run.id)
    assert record.listing_ids == {"p1"}
    assert record.urls == {"http://shop/p/1"}
    assert record.failed_urls == {"http://shop/p/9"}


def test_worker_entries_are_merged_not_overwritten(any_store: Store) -> None:
    with any_store.session() as session:
        site = ensure_site(session, "shop", "html")
        run_id = start_run(session, site).id
    for worker, pages in (("w0", 3), ("w1", 4), ("w0", 5)):  # w0 writes twice: its entry is replaced
        with any_store.session() as session:
            record_worker_stats(session, run_id, worker, {"pages": pages})
    with any_store.session() as session:
        stats = session.get_one(CrawlRun, run_id).stats
    assert stats["workers"] == {"w0": {"pages": 5}, "w1": {"pages": 4}}


def test_totals_sum_the_workers_and_recompute_coverage() -> None:
    first = worker_summary(
        {"response_received_count": 10, "downloader/response_status_count/200": 10, "retry/count": 1},
        {"items": 8, "title": 8, "price": 4, "seller": 8, "licence_text": 2},
        "finished",
    )
    second = worker_summary(
        {"response_received_count": 5, "downloader/response_status_count/200": 4,
         "downloader/response_status_count/503": 1, "tisiwatch/resume/stored": 7},
        {"items": 2, "title": 2, "price": 2, "seller": 0, "licence_text": 0, "duplicates": 1},
        None,
    )  # fmt: skip
    totals = run_totals({"w0": first, "w0-r1": second})
    assert totals["pages"] == 15
    assert totals["items"] == 10
    assert totals["status_counts"] == {"200": 14, "503": 1}
    assert totals["coverage"] == {"title": 1.0, "price": 0.6, "seller": 0.8, "licence_text": 0.2}
    assert totals["resume_skipped"] == {"stored": 7}
    assert totals["duplicates"] == 1
    assert first["final"]
    assert not second["final"]
    closed = closing_stats({"plan": {}, "resumes": 1, "workers": {"w0": first}}, "finished", resumable=False)
    assert "plan" not in closed
    assert closed["resumes"] == 1
    assert closed["finish_reason"] == "finished"


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("finished", "finished"),
        ("closespider_itemcount", "finished"),
        ("shutdown", "interrupted"),  # Ctrl-C: the run can be resumed
        ("cancelled", "failed"),
    ],
)
def test_status_after_a_finish_reason(reason: str, status: str) -> None:
    assert status_after(reason) == status


def test_a_resumed_limit_counts_what_was_stored_before(
    sqlite_store: Store, crawl_settings: Settings, shops: ShopsHandle
) -> None:
    """A limit the killed crawl already reached: the resumed run is closed without crawling."""
    profile = load_profile("demo-html").with_base_url(shops.urls["html"])
    with sqlite_store.session() as session:
        site = ensure_site(session, profile.name, profile.kind, profile.base_url)
        run = start_run(session, site)
        run.stats = {"plan": Plan([], [], 2).as_stats()}
        store_sightings(
            session, site, run.id, [Sighting(f"p{i}", f"http://x/p/{i}", title="t") for i in range(2)]
        )
        record_worker_stats(session, run.id, "w0", worker_summary({}, {"items": 2, "title": 2}, None))
    [result] = crawl(crawl_settings, [profile], resume=True, store=sqlite_store)
    assert result.resumed
    assert result.status == "finished"
    assert result.stats["items"] == 2


def _pipeline(store: Store, run_id: int, site_id: int, **settings: Any) -> StorePipeline:
    crawler = get_crawler(settings_dict={"TISIWATCH_DATABASE_URL": store.url, "TISIWATCH_RUN_ID": run_id,
                                         "TISIWATCH_SITE_ID": site_id, **settings})  # fmt: skip
    return StorePipeline.from_crawler(crawler)


def test_a_listing_is_stored_once_per_run_however_often_it_is_seen(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        site = ensure_site(session, "shop", "html")
        run_id = start_run(session, site).id
    pipeline = _pipeline(sqlite_store, run_id, site.id, TISIWATCH_WORKER="w3")
    for url in ("http://shop/p/1", "http://shop/p/1?ref=search", "http://shop/p/1"):
        pipeline.process_item(Sighting("p1", url, title="ปลั๊กพ่วง"))
        pipeline.flush()
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 1
        entry = session.get_one(CrawlRun, run_id).stats["workers"]["w3"]
    assert entry["items"] == 1
    assert entry["duplicates"] == 2
    assert not entry["final"]


def test_the_store_pipeline_flushes_every_interval_not_only_every_batch(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        site = ensure_site(session, "shop", "html")
        run_id = start_run(session, site).id
    pipeline = _pipeline(sqlite_store, run_id, site.id, TISIWATCH_FLUSH_INTERVAL_S=0.05)

    async def crawl_a_little() -> int:
        pipeline.open_spider()
        pipeline.process_item(Sighting("p1", "http://shop/p/1", title="ปลั๊กพ่วง"))  # far from a batch of 200
        await asyncio.sleep(0.3)
        stored = _stored(sqlite_store)
        pipeline.close_spider()
        return stored

    assert asyncio.run(crawl_a_little()) == 1
