"""A crawl run's typed statistics: one definition of coverage, and runs stored by older versions read."""

from __future__ import annotations

from typing import Any

import pytest

from core.runstats import COVERAGE_FIELDS, RunStats, coverage_of

# (covered, items, coverage)
COVERAGE = [
    ({"title": 3, "price": 2, "seller": 1, "licence_text": 0}, 3, {"title": 1.0, "price": 0.6667, "seller": 0.3333, "licence_text": 0.0}),
    ({"title": 5}, 10, {"title": 0.5, "price": 0.0, "seller": 0.0, "licence_text": 0.0}),
    ({}, 0, dict.fromkeys(COVERAGE_FIELDS, 0.0)),
]  # fmt: skip


@pytest.mark.parametrize(("covered", "items", "coverage"), COVERAGE)
def test_coverage_is_the_share_of_items_with_the_field(
    covered: dict[str, int], items: int, coverage: dict[str, float]
) -> None:
    assert coverage_of(covered, items) == coverage
    assert RunStats.counted({"items": items}, covered, {}).coverage == coverage


# A run as this version's crawler stores it (totals, a worker, the crawler's own bookkeeping).
NOW = {
    "pages": 12, "items": 10, "gone": 1, "failed_urls": 2, "requests": 14, "answered": 11,
    "errors": {"TimeoutError": 2}, "covered": {"title": 10, "price": 9, "seller": 5, "licence_text": 1},
    "coverage": {"title": 1.0, "price": 0.9, "seller": 0.5, "licence_text": 0.1},
    "finish_reason": "finished", "retries": 3, "workers": {"w0": {"items": 10, "final": True}},
}  # fmt: skip

# (stored stats, pages, items, error count, coverage) — rows of crawl_runs stored by older versions too
STORED: list[tuple[Any, int | None, int | None, int | None, dict[str, float | None]]] = [
    (NOW, 12, 10, 2, {"title": 1.0, "price": 0.9, "seller": 0.5, "licence_text": 0.1}),
    # coverage as percentages, no counts of covered fields
    ({"pages": 5, "items": 4, "errors": 3, "coverage": {"title": 100, "price": 75, "seller": 50, "licence_text": 0}},
     5, 4, 3, {"title": 1.0, "price": 0.75, "seller": 0.5, "licence_text": 0.0}),
    # odd values are unknown, not errors
    ({"pages": 3, "items": "lots", "errors": 4, "coverage": {"title": 80, "price": "x"}},
     3, None, 4, {"title": 0.8, "price": None, "seller": None, "licence_text": None}),
    ({"coverage": [1, 2], "pages": True}, None, None, None, dict.fromkeys(COVERAGE_FIELDS)),
    ([], None, None, None, dict.fromkeys(COVERAGE_FIELDS)),
    (None, None, None, None, dict.fromkeys(COVERAGE_FIELDS)),
    # a run still running: only its plan and workers so far
    ({"plan": {"queries": ["x"]}, "workers": {}}, None, None, None, dict.fromkeys(COVERAGE_FIELDS)),
    ({"coverage": {"title": 250, "price": -1}}, None, None, None, dict.fromkeys(COVERAGE_FIELDS)),
]  # fmt: skip


@pytest.mark.parametrize(("stored", "pages", "items", "errors", "coverage"), STORED)
def test_stored_stats_are_read(
    stored: Any, pages: int | None, items: int | None, errors: int | None, coverage: dict[str, float | None]
) -> None:
    stats = RunStats.from_json(stored)
    assert (stats.pages, stats.items, stats.error_count) == (pages, items, errors)
    assert stats.coverage == coverage
    assert all(value is None or 0 <= value <= 1 for value in stats.coverage.values())


def test_the_json_written_reads_back_the_same() -> None:
    stats = RunStats.from_json(NOW)
    written = stats.to_json()
    assert RunStats.from_json(written) == stats
    assert written["coverage"] == NOW["coverage"]
    assert {key: written[key] for key in ("pages", "items", "gone", "failed_urls", "requests", "answered")} == {
        "pages": 12, "items": 10, "gone": 1, "failed_urls": 2, "requests": 14, "answered": 11,
    }  # fmt: skip
    assert written["finish_reason"] == "finished"
    assert "reason" not in written


def test_an_old_run_with_percentages_is_written_back_as_fractions() -> None:
    old = RunStats.from_json({"items": 4, "coverage": {"title": 100, "price": 75}})
    assert old.to_json()["coverage"] == {"title": 1.0, "price": 0.75}
