"""Benchmark: the full crawl pipeline against bare Scrapy on the demo HTML shop.

    python -m bench.bench_crawl [--pages 20000] [--no-images] [--no-write]

Both runs crawl the demo HTML shop by its sitemap with the same spider and the same Scrapy settings
(concurrency, retries, robots.txt). "full" is tisiwatch's crawl as users run it: validation, the
store pipeline (batched upserts into SQLite) and evidence (WARC records) when evidence is on in the
settings, and the listings' product images as evidence unless ``--no-images``. "bare" removes every
item pipeline and the evidence middleware. Each run is its own process
(Scrapy's reactor cannot restart). Goal: full ÷ bare ≥ 0.6 in pages/s. Replaces the "Crawl pipeline"
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench.harness import DOC, ROOT, machine, write_section
from config import Settings, load_settings
from crawler.profile import load_profile
from crawler.settings import SPIDERS, scrapy_settings
from demo.server import start_shops
from store.db import Store
from store.writer import ensure_site, start_run

SECTION = "## Crawl pipeline (full vs bare Scrapy)"
GOAL = 0.6


def demo_html_crawl(
    base_url: str, data_dir: str, images: bool, adjust: Callable[[dict[str, Any]], None]
) -> tuple[dict[str, Any], float, Settings]:
    """Crawl the demo HTML shop by its sitemap in this process, into a new store in ``data_dir``, with
    its Scrapy settings changed by ``adjust``: the crawl's stats, its seconds and the settings."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.misc import load_object

    settings = load_settings(overrides={"data_dir": data_dir, "crawl": {"images": images}}, environ={})
    profile = load_profile("demo-html").with_base_url(base_url)
    store = Store.from_settings(settings)
    store.migrate()
    with store.session() as session:
        site = ensure_site(session, profile.name, profile.kind, profile.base_url)
        job = {"run_id": start_run(session, site).id, "site_id": site.id}
    store.dispose()
    custom = scrapy_settings(settings, profile, job, settings.database_url, 0)
    custom["LOG_LEVEL"] = "ERROR"
    adjust(custom)
    base = load_object(SPIDERS[profile.kind])
    spider_class = type(base.__name__, (base,), {"custom_settings": custom})
    process = CrawlerProcess({"LOG_LEVEL": "ERROR"})
    crawler = process.create_crawler(spider_class)
    process.crawl(crawler, profile=profile, queries=[], urls=[])
    started = time.perf_counter()
    process.start()
    elapsed = time.perf_counter() - started
    return (crawler.stats.get_stats() if crawler.stats else {}), elapsed, settings


def child(mode: str, base_url: str, data_dir: str, images: bool) -> dict[str, Any]:
    """Run one crawl in this process and return its figures."""

    def adjust(custom: dict[str, Any]) -> None:
        if mode == "bare":
            custom["ITEM_PIPELINES"] = {}
            custom["DOWNLOADER_MIDDLEWARES"] = {
                key: value for key, value in custom["DOWNLOADER_MIDDLEWARES"].items() if "evidence" not in key
            }

    stats, elapsed, _ = demo_html_crawl(base_url, data_dir, images, adjust)
    images_fetched = stats.get("tisiwatch/images/responses", 0)
    return {
        "pages": stats.get("response_received_count", 0) - images_fetched,
        "images": images_fetched,
        "items": stats.get("item_scraped_count", 0),
        "seconds": elapsed,
        "evidence_records": stats.get("tisiwatch/evidence/records", 0),
    }


def run_child(mode: str, base_url: str, images: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        output = subprocess.run(
            [sys.executable, "-m", "bench.bench_crawl", "--child", mode, "--base-url", base_url, "--data-dir", tmp,
             *([] if images else ["--no-images"])],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout  # fmt: skip
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    figures["pages_per_s"] = figures["pages"] / figures["seconds"]
    return figures


def section(pages: int, full: dict[str, Any], bare: dict[str, Any], images: bool) -> str:
    ratio = full["pages_per_s"] / bare["pages_per_s"]
    verdict = "meets" if ratio >= GOAL else "misses"
    return "\n".join([
        SECTION,
        "",
        f"`python -m bench.bench_crawl --pages {pages}{'' if images else ' --no-images'}` — "
        f"{date.today().isoformat()}, {machine()}.",
        "",
        f"The demo HTML shop with {pages:,} product pages (served by its own process on the same machine),",
        "crawled by its sitemap. *full*: validation, the store pipeline into SQLite and evidence (WARC) as",
        "configured, "
        + ("with the listings' product images fetched and kept as evidence (counted apart from pages);"
           if images else "without the listings' product images (`crawl.images = false`);"),
        "*bare*: the same spider and Scrapy settings with no item pipelines and no evidence.",
        f"Goal: full ÷ bare ≥ {GOAL}.",
        "",
        "| run | pages | listings | product images | seconds | pages/s | WARC records |",
        "|---|---|---|---|---|---|---|",
        *(f"| {name} | {r['pages']:,} | {r['items']:,} | {r['images']:,} | {r['seconds']:.1f} | "
          f"{r['pages_per_s']:,.0f} | {r['evidence_records']:,} |" for name, r in (("bare", bare), ("full", full))),
        "",
        f"Ratio full ÷ bare: **{ratio:.2f}** ({verdict} the goal).",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--no-images", action="store_true", help="crawl without the product images")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", choices=["full", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.base_url, args.data_dir, not args.no_images)))
        return 0
    with start_shops(seed=7, size=args.pages, day=1, faults=False) as shops:
        bare = run_child("bare", shops.urls["html"], not args.no_images)
        full = run_child("full", shops.urls["html"], not args.no_images)
    for name, figures in (("bare", bare), ("full", full)):
        print(
            f"{name}: {figures['pages']:,} pages in {figures['seconds']:.1f} s = {figures['pages_per_s']:,.0f} pages/s"
        )
    ratio = full["pages_per_s"] / bare["pages_per_s"]
    print(f"full ÷ bare = {ratio:.2f} (goal ≥ {GOAL})")
    if not args.no_write:
        write_section(SECTION, section(args.pages, full, bare, not args.no_images))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
