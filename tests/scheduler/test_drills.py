"""Reliability drills at CI size (bench/drills.py runs them large): the scheduler SIGKILLed mid-run
and started again; the scheduler and an analyst's crawl at once on one SQLite file; the demo shops'
fault modes at high rates; PostgreSQL's connections cut during a crawl."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.drills import (
    concurrent_drill,
    fault_drill,
    kill_drill,
    live_ids,
    postgres_drill,
    terminate_backends,
)
from bench.harness import postgres_database

NO_DUPLICATES = {"listings": 0, "observations": 0}
SKIPPED_AFTER_CRAWL = [
    ("match", "skipped"),
    ("takedowns", "skipped"),
    ("report", "skipped"),
    ("cases", "skipped"),
]


def test_the_scheduler_killed_mid_run_catches_up_without_losing_or_duplicating(tmp_path: Path) -> None:
    size = 200
    drill = kill_drill(tmp_path, size=size, delay_s=0.02)
    killed, stopped, finished = drill["runs"]
    assert killed[:4] == (1, "now", "interrupted", [("crawl", "interrupted"), *SKIPPED_AFTER_CRAWL])
    assert "ended before the run did" in killed[4]  # found dead at the next start
    assert stopped[:4] == (2, "catch-up", "interrupted", [("crawl", "interrupted"), *SKIPPED_AFTER_CRAWL])
    assert stopped[4] == "stopped: the scheduler got SIGTERM"
    assert finished[:4] == (3, "catch-up", "finished", [("crawl", "ok"), ("match", "ok"), ("takedowns", "ok"),
                                                        ("report", "ok"), ("cases", "ok")])  # fmt: skip
    # one crawl run, continued twice: every listing stored once, observed once
    assert drill["crawl_runs"] == [(1, "finished", 2, len(live_ids(size, "html")))]
    assert 0 < drill["killed_at"] < drill["stopped_at"] < len(live_ids(size, "html"))
    assert drill["missing"] == 0
    assert drill["duplicates"] == NO_DUPLICATES
    assert drill["verdicts"] == len(live_ids(size, "html"))  # and the later steps did their work
    assert drill["cases"] == 0  # the case file was written; no officer confirmed a case
    assert (drill["sigterm_exit"], drill["idle_exit"]) == (0, 0)  # clean stops
    assert drill["sigterm_s"] < 30
    assert not drill["locked"]


def test_the_scheduler_and_an_analysts_crawl_share_one_sqlite_file(tmp_path: Path) -> None:
    drill = concurrent_drill(tmp_path, size=100, delay_s=0.0)
    assert drill["analyst_exit"] == 0
    assert drill["run"] == ("finished", [("crawl", "ok"), ("match", "ok"), ("takedowns", "ok"), ("report", "ok"),
                                         ("cases", "ok")], None)  # fmt: skip
    assert sorted(drill["crawl_runs"]) == [
        ("demo-api", "analyst", "finished"), ("demo-api", "scheduler", "finished"),
        ("demo-html", "analyst", "finished"), ("demo-html", "scheduler", "finished"),
    ]  # fmt: skip
    assert drill["overlap_s"] > 0  # the two crawls ran at the same time
    assert drill["locked"] == 0  # no "database is locked", in either process
    assert drill["missing"] == 0
    assert drill["duplicates"] == NO_DUPLICATES
    assert drill["stop_exit"] == 0


def test_the_crawl_completes_through_the_shops_fault_modes_at_high_rates(tmp_path: Path) -> None:
    drill = fault_drill(tmp_path, size=30, rate=0.4)
    html, api = drill["sites"]["demo-html"], drill["sites"]["demo-api"]
    for site in (html, api):
        assert site["status"] == "finished"
        assert site["share"] >= 0.99  # of the reachable listings
        assert site["unrecorded"] == []  # every listing that could not be fetched is a recorded failure
        assert site["unexplained"] == []  # and nothing else failed
        assert {"429", "503"} <= set(site["status_counts"])
    assert html["stored"] == html["reachable"]
    errors = _by_kind(html["errors"]) + _by_kind(api["errors"])
    assert errors["DownloadTimeoutError"] > 0  # slow answers
    assert errors["ResponseDataLossError"] > 0  # truncated bodies
    assert html["failures"].get("redirect loop", 0) + api["failures"].get("redirect loop", 0) > 0
    assert html["trap_drops"]["too_many_result_pages"] > 0  # the endless calendars were cut short
    assert drill["duplicates"] == NO_DUPLICATES


def _by_kind(errors: dict[str, int]) -> Counter[str]:
    return Counter({name.rsplit(".", 1)[-1]: count for name, count in errors.items()})


@pytest.mark.postgres
def test_a_crawl_survives_its_postgres_connections_being_cut(tmp_path: Path, postgres_url: str) -> None:
    """The closest a shared test server allows to a restart: every connection to the crawl's database
    (a throwaway one) cut with pg_terminate_backend every half second. bench/drills.py also restarts
    a PostgreSQL server of its own."""
    with postgres_database() as url:
        drill = postgres_drill(tmp_path, url, terminate_backends(url), size=200, every_s=0.5)
    assert drill["disruptions"]
    assert drill["final"] == "finished"
    assert drill["missing"] == 0
    assert drill["duplicates"] == NO_DUPLICATES
    assert drill["listings_without_observation"] == 0  # nothing half-written
    assert all(items == observed for items, observed in drill["items_vs_observations"].values())
