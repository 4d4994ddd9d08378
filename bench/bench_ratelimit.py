"""Benchmark: crawling a shop that allows N requests a second and answers the rest 429 + Retry-After.

    python -m bench.bench_ratelimit [--limits 10 25] [--seconds 30] [--no-write]

The demo HTML shop (``demo.faults.FaultRates(rate_limit=N)``, no other faults) is crawled by its
sitemap, without product images, twice per N, each crawl in its own process (Scrapy's reactor cannot
restart): *throttle*, tisiwatch's crawl as users run it (``crawler.throttle``: the whole site slows down,
a 429's request waits its turn behind Retry-After, never dropped after a few retries); and *plain
retries*, the behaviour before it — the same crawl with 429/503 retried by ``crawler.retry`` (Retry-After
honoured per request, ``crawl.retries`` times, then the URL fails). Figures: the share of the shop's
listings stored (goal 100 %: no result page dropped) and the pages answered per second against N
(goal ≥ 0.8 N). The shop has about ``--seconds`` × N listings. Replaces the "Rate-limited shop" section
of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date
from typing import Any

from sqlalchemy import func, select

from bench.bench_crawl import demo_html_crawl
from bench.harness import DOC, ROOT, machine, write_section
from demo.faults import FaultRates
from demo.generator import generate
from demo.server import start_shops
from store.db import Store
from store.models import Listing

SECTION = "## Rate-limited shop (429 + Retry-After)"
SHARE_GOAL, RATE_GOAL = 1.0, 0.8
MODES = ("throttle", "plain retries")


def child(mode: str, base_url: str, data_dir: str) -> dict[str, Any]:
    """Run one crawl in this process and return its figures."""

    def adjust(custom: dict[str, Any]) -> None:
        if mode == "plain retries":  # before crawler.throttle: 429/503 are retried like a 500
            custom["DOWNLOADER_MIDDLEWARES"] = {
                **custom["DOWNLOADER_MIDDLEWARES"],
                "crawler.throttle.SiteThrottleMiddleware": None,
            }
            custom["RETRY_HTTP_CODES"] = [*custom["RETRY_HTTP_CODES"], 503, 429]

    stats, elapsed, settings = demo_html_crawl(base_url, data_dir, False, adjust)
    store = Store.from_settings(settings)
    with store.session() as session:
        stored = session.scalar(select(func.count()).select_from(Listing)) or 0
    store.dispose()
    answered = sum(
        int(v) for k, v in stats.items()
        if k.startswith("downloader/response_status_count/") and not k.endswith(("/429", "/503"))
    ) - stats.get("robotstxt/response_count", 0)  # fmt: skip
    return {
        "items": stored,
        "answered": answered,
        "limited": stats.get("downloader/response_status_count/429", 0),
        "failed": stats.get("tisiwatch/failed_urls", 0),
        "rounds": stats.get("tisiwatch/throttle/rounds", 0),
        "seconds": elapsed,
    }


def run_child(mode: str, base_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        output = subprocess.run(
            [sys.executable, "-m", "bench.bench_ratelimit", "--child", mode, "--base-url", base_url, "--data-dir", tmp],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout  # fmt: skip
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    figures["rate"] = figures["answered"] / figures["seconds"]
    return figures


def measure(limit: int, seconds: float) -> tuple[int, dict[str, dict[str, Any]]]:
    """The shop's listing count and each mode's figures, for a shop limited to ``limit`` requests/s."""
    size = max(20, round(limit * seconds))
    listings = sum(
        1 for item in generate(seed=7, size=size, day=1) if item.shop == "html" and item.active_on(1)
    )
    figures = {}
    for mode in MODES:
        with start_shops(seed=7, size=size, day=1, faults=False, rates=FaultRates(rate_limit=limit)) as shops:
            figures[mode] = run_child(mode, shops.urls["html"])
    return listings, figures


def section(results: dict[int, tuple[int, dict[str, dict[str, Any]]]], seconds: float) -> str:
    rows = []
    for limit, (listings, figures) in results.items():
        for mode, r in figures.items():
            rows.append(
                f"| {limit} | {mode} | {listings:,} | {r['items']:,} ({r['items'] / listings:.0%}) | "
                f"{r['failed']:,} | {r['limited']:,} | {r['rounds']:,} | {r['seconds']:.1f} | "
                f"{r['rate']:.1f} ({r['rate'] / limit:.2f} N) |"
            )
    limits = " ".join(str(limit) for limit in results)
    return "\n".join([
        SECTION,
        "",
        f"`python -m bench.bench_ratelimit --limits {limits} --seconds {seconds:g}` — "
        f"{date.today().isoformat()}, {machine()}.",
        "",
        "The demo HTML shop answers at most N requests in any one second and the others 429 with",
        "`Retry-After: 1`; crawled by its sitemap, without product images. *throttle*: tisiwatch's crawl",
        "(the whole site slows down, a 429's request is put back behind the wait); *plain retries*: the",
        "behaviour before it, 429 retried per request `crawl.retries` times (Retry-After honoured), then",
        f"failed. Goals: every listing stored ({SHARE_GOAL:.0%}), pages answered per second ≥ {RATE_GOAL} N.",
        "",
        "| N | crawl | listings in the shop | stored | failed URLs | 429 answers | slowdown rounds | seconds | "
        "pages answered/s |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limits", type=int, nargs="+", default=[10, 25])
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="the shop's size, in seconds at N requests/s"
    )
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.base_url, args.data_dir)))
        return 0
    results = {limit: measure(limit, args.seconds) for limit in args.limits}
    met = True
    for limit, (listings, figures) in results.items():
        for mode, r in figures.items():
            print(
                f"N={limit} {mode}: {r['items']}/{listings} listings, {r['failed']} failed, "
                f"{r['rate']:.1f} pages/s = {r['rate'] / limit:.2f} N in {r['seconds']:.1f} s"
            )
        ours = figures["throttle"]
        met = met and ours["items"] >= listings * SHARE_GOAL and ours["rate"] >= RATE_GOAL * limit
    if not args.no_write:
        write_section(SECTION, section(results, args.seconds))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
