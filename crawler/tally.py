"""A run's stats: each crawl worker's own summary, and the run's totals summed from them.

A run may be crawled by several worker processes at once (scale-out) or one after another (a killed
crawl and its resumption). Each worker keeps its own entry, ``stats["workers"][name]``, written with
every batch it stores (``store.writer.record_worker_stats`` locks the run's row, so no worker
overwrites another's entry), and marked ``final`` when its spider closes. Whoever closes the run
(the single worker itself, or the parent once all workers have exited) sums the entries into the
run's top-level stats, the ones reports read: pages, items, errors, status counts, field coverage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from core.runstats import COVERAGE_FIELDS, RunStats, coverage_of
from crawler.outcome import judged

SUMMED = ("pages", "items", "gone", "dropped", "failed_urls", "retries", "retry_after_honoured")
SUMMED_EXTRA = ("duplicates", "requests", "answered")
COUNTERS = ("errors", "status_counts", "trap_drops", "covered", "resume_skipped", "failures", "cut", "images")
GOOD_ENDS = {"finished", "closespider_itemcount", "closespider_pagecount", "budget_spent"}
"""Finish reasons of a crawl that did what it was asked."""
PAUSED_ENDS = {"shutdown"}
"""Finish reasons of a crawl stopped on purpose (Ctrl-C, SIGTERM): the run can be resumed."""
BLOCKED_ENDS = {"blocked"}
"""Finish reasons of a crawl the site stopped by blocking it (``crawler.throttle``): the run is
``blocked``, and the site's next crawl continues it (``crawler.resume``)."""
RESUMABLE_STATUSES = ("interrupted", "blocked")
"""Statuses of a closed run that keep its plan, to be continued."""


def status_after(reason: str) -> str:
    """The run status a worker's finish reason leads to: finished, interrupted or blocked (both
    resumable), or failed."""
    if reason in GOOD_ENDS:
        return "finished"
    if reason in BLOCKED_ENDS:
        return "blocked"
    return "interrupted" if reason in PAUSED_ENDS else "failed"


def worker_summary(
    stats: Mapping[str, Any], counts: Mapping[str, int], reason: str | None, log_file: str | None = None
) -> dict[str, Any]:
    """One worker's entry: Scrapy's stats plus what the store pipeline counted; final once ``reason`` is
    known. ``requests`` counts the URLs asked for (not retries, not robots.txt), ``answered`` the pages
    that answered 2xx (not robots.txt), ``failures`` the failed URLs by kind (``crawler.outcome``) and
    ``failed_at`` where each kind first struck; ``log`` is the worker's log file in the data directory."""

    def group(prefix: str) -> dict[str, Any]:
        return {key.rsplit("/", 1)[-1]: value for key, value in stats.items() if key.startswith(prefix)}

    def ok(prefix: str) -> int:
        return sum(int(v) for k, v in group(prefix).items() if k.isdigit() and 200 <= int(k) < 300)

    robots = stats.get("robotstxt/request_count", 0)
    images = group("tisiwatch/images/")  # product images (crawler.images) are not pages
    counted = {
        "pages": max(stats.get("response_received_count", 0) - images.get("responses", 0), 0),
        "items": counts.get("items", 0),
        "gone": counts.get("gone", 0),
        "failed_urls": stats.get("tisiwatch/failed_urls", 0),
        "requests": max(
            stats.get("downloader/request_count", 0)
            - stats.get("retry/count", 0)
            - robots
            - images.get("requests", 0),
            0,
        ),
        "answered": ok("downloader/response_status_count/")
        - ok("robotstxt/response_status_count/")
        - images.get("answered", 0),
    }
    errors = {**group("downloader/exception_type_count/"), **group("spider_exceptions/")}
    typed = RunStats.counted(counted, {name: counts.get(name, 0) for name in COVERAGE_FIELDS}, errors)
    summary: dict[str, Any] = {
        **typed.to_json(),
        "dropped": sum(v for k, v in stats.items() if k.startswith("tisiwatch/invalid/")),
        "status_counts": group("downloader/response_status_count/"),
        "retries": stats.get("retry/count", 0),
        "retry_after_honoured": stats.get("tisiwatch/retry_after_honoured", 0),
        "trap_drops": group("tisiwatch/trap/"),
        "resume_skipped": group("tisiwatch/resume/"),
        "duplicates": counts.get("duplicates", 0),
        "failures": group("tisiwatch/failed/"),
        "failed_at": group("tisiwatch/failed_at/"),
        "cut": group("tisiwatch/cut/"),
        "throttle": group("tisiwatch/throttle/"),
        "blocked": group("tisiwatch/blocked/"),
        "images": images,
        "final": reason is not None,
    }
    if log_file:
        summary["log"] = log_file
    if reason is not None:
        summary["finish_reason"] = reason
    return summary


def run_totals(workers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The run's top-level stats: every worker's counts summed, coverage recomputed from the sums."""
    totals: dict[str, Any] = {
        key: sum(int(entry.get(key) or 0) for entry in workers.values()) for key in (*SUMMED, *SUMMED_EXTRA)
    }
    for key in COUNTERS:
        counter: Counter[str] = Counter()
        for entry in workers.values():
            counter.update(entry.get(key) or {})
        totals[key] = dict(counter)
    places: dict[str, str] = {}
    for entry in workers.values():
        for kind, place in (entry.get("failed_at") or {}).items():
            places.setdefault(kind, place)
    totals["failed_at"] = places
    totals["throttle"] = _summed(entry.get("throttle") for entry in workers.values())
    blocked: list[Mapping[str, Any]] = [
        entry["blocked"] for entry in workers.values() if entry.get("blocked")
    ]
    if blocked:  # the requests left add up; the rest is the longest streak's
        longest: Mapping[str, Any] = max(blocked, key=lambda b: float(b.get("for_s") or 0))
        totals["blocked"] = {**longest, "left": sum(int(b.get("left") or 0) for b in blocked)}
    totals["coverage"] = coverage_of(totals["covered"], totals["items"])
    return totals


def _summed(entries: Any) -> dict[str, float]:
    """Counters summed over the workers, except a ``max_`` one, which is the largest."""
    totals: dict[str, float] = {}
    for entry in entries:
        for key, value in (entry or {}).items():
            if isinstance(value, int | float):
                totals[key] = (
                    max(totals.get(key, 0), value) if key.startswith("max_") else totals.get(key, 0) + value
                )
    return totals


def closing_stats(current: Mapping[str, Any], finish_reason: str, *, resumable: bool) -> dict[str, Any]:
    """The stats a run is closed with: its totals over the workers' entries, which are kept.

    The run's plan (what it was asked to crawl) is kept only while the run can still be resumed.
    """
    workers = current.get("workers") or {}
    kept = {k: v for k, v in current.items() if resumable or k != "plan"}
    return {**kept, **run_totals(workers), "finish_reason": finish_reason, "workers": workers}


def closing(current: Mapping[str, Any], finish_reason: str, status: str) -> tuple[str, dict[str, Any]]:
    """The status and stats a run is closed with, when its crawl ended with ``status``: its totals
    (:func:`closing_stats`), judged — a run that got nothing back has failed (``crawler.outcome``)."""
    return judged(status, closing_stats(current, finish_reason, resumable=status in RESUMABLE_STATUSES))
