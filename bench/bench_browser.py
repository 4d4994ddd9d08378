"""Benchmark: product pages per second of the JavaScript shop, tisiwatch's crawl against bare Playwright.

    python -m bench.bench_browser [--pages 400] [--concurrency 4] [--rounds 2] [--no-write]

Starts the demo shops (``--pages`` listings a shop, no fault pages) and takes the JavaScript shop's
first ``--pages`` product pages (``/p/ID``). *crawl*: tisiwatch's real crawl of those URLs —
``crawler.runner.crawl`` with the demo-browser profile, scrapy-playwright and Debian's Chromium, the
validation and store pipelines into a SQLite store, evidence off — timed around the whole call (the
crawl process, its Chromium, the store). *bare*: the baseline in the same run, a plain async
Playwright loop in this process over the same URLs: one Chromium, one context, ``--concurrency``
pages at a time, each ``goto``, wait for ``#product h1``, ``page.content()``, close; images, fonts and
media are skipped as the crawler skips them. Both timings include launching Chromium. The concurrency
is the profile's politeness concurrency (4) unless given. Rounds alternate the order (bare, crawl,
crawl, bare, …) and the best of each side counts. Goal: crawl ÷ bare ≥ 0.8. Replaces the "Browser
crawl" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date
from typing import Any

from sqlalchemy import func, select

from bench.harness import DOC, ROOT, machine, write_section
from config import load_settings
from crawler.profile import load_profile
from crawler.runner import crawl
from crawler.spiders.browser import CHROMIUM, CHROMIUM_ARGS  # the same browser and flags as the crawl
from demo.generator import generate
from demo.server import start_shops
from store.db import Store
from store.models import Listing, Site

SECTION = "## Browser crawl (scrapy-playwright vs bare Playwright)"
GOAL = 0.8
PROFILE = "demo-browser"
WAIT_FOR = "#product h1"
SKIPPED = {"image", "font", "media"}


async def _bare(urls: list[str], concurrency: int, timeout_ms: float) -> dict[str, Any]:
    from playwright.async_api import Route, async_playwright

    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    done = {"pages": 0, "rendered": 0, "bytes": 0, "failed": 0}
    first: list[float] = []

    async def skip_heavy(route: Route) -> None:
        if route.request.resource_type in SKIPPED:
            await route.abort()
        else:
            await route.continue_()

    started = time.perf_counter()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context()
        await context.route("**/*", skip_heavy)

        async def worker() -> None:
            while not queue.empty():
                url = queue.get_nowait()
                page = await context.new_page()
                try:
                    await page.goto(url, timeout=timeout_ms)
                    await page.wait_for_selector(WAIT_FOR, state="attached", timeout=timeout_ms)
                    html = await page.content()
                    done["rendered"] += 'class="title"' in html
                    done["bytes"] += len(html)
                except Exception:
                    done["failed"] += 1
                finally:
                    await page.close()
                done["pages"] += 1
                if not first:
                    first.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        await context.close()
        await browser.close()
    seconds = time.perf_counter() - started
    return {**done, "seconds": seconds, "first_s": first[0] if first else seconds}


def run_bare(urls: list[str], concurrency: int, timeout_s: float) -> dict[str, Any]:
    figures = asyncio.run(_bare(urls, concurrency, timeout_s * 1000))
    figures["pages_per_s"] = figures["pages"] / figures["seconds"]
    return figures


def run_crawl(
    base_url: str, urls: list[str], concurrency: int, profile_name: str = PROFILE
) -> dict[str, Any]:
    """tisiwatch's crawl of ``urls`` into a fresh SQLite store; timed around the whole ``crawl`` call."""
    with tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, Any] = {"data_dir": tmp, "crawl": {"evidence": False}}
        if concurrency > 8:  # the settings cap the profile's concurrency (default 8)
            overrides["crawl"].update(concurrency=concurrency, concurrency_per_domain=concurrency)
        settings = load_settings(overrides=overrides, environ={})
        profile = load_profile(profile_name).with_base_url(base_url)
        politeness = profile.politeness.model_copy(update={"concurrency": concurrency})
        profile = profile.model_copy(update={"politeness": politeness})
        store = Store.from_settings(settings)
        store.migrate()
        first: list[float] = []

        def on_progress(event: dict[str, Any]) -> None:
            if not first and event.get("pages"):
                first.append(time.perf_counter() - started)

        started = time.perf_counter()
        results = crawl(settings, [profile], queries=[], urls=urls, store=store, on_progress=on_progress)
        seconds = time.perf_counter() - started
        with store.session() as session:
            stored = session.scalar(
                select(func.count(Listing.id)).join(Site).where(Site.name == profile.name)
            )
        store.dispose()
    stats = results[0].stats if results else {}
    return {
        "pages": int(stats.get("pages", 0) or 0),
        "items": int(stats.get("items", 0) or 0),
        "stored": int(stored or 0),
        "status": results[0].status if results else "none",
        "errors": stats.get("errors", {}),
        "seconds": seconds,
        "first_s": first[0] if first else seconds,
        "pages_per_s": len(urls) / seconds,
    }


def section(args: argparse.Namespace, bare: dict[str, Any], full: dict[str, Any], all_ok: bool) -> str:
    ratio = full["pages_per_s"] / bare["pages_per_s"]
    verdict = "meets" if ratio >= GOAL else "misses"
    command = f"python -m bench.bench_browser --pages {args.pages} --concurrency {args.concurrency}"
    stored = (
        f"The crawl stored every page: {full['stored']:,} listings of {args.pages:,} URLs in each round."
        if all_ok
        else f"The crawl did NOT store every page: {full['stored']:,} listings of {args.pages:,} URLs."
    )
    return "\n".join([
        SECTION,
        "",
        f"`{command}` — {date.today().isoformat()}, {machine()}.",
        "",
        f"The demo JavaScript shop's first {args.pages:,} product pages (`/p/ID`: an empty shell whose script",
        "fetches the item's JSON and builds the page), served by the shops' own process on the same",
        "machine. *crawl*: `crawler.runner.crawl(settings, [demo-browser], urls=…, queries=[])` —",
        "scrapy-playwright and Debian's Chromium in the crawl process, validation and the store pipeline",
        "into SQLite, evidence off — timed around the whole call. *bare* (baseline, same run): an async",
        f"Playwright loop over the same URLs, one Chromium, {args.concurrency} pages at a time (goto, wait",
        "for `#product h1`, `page.content()`, close; images, fonts and media skipped as the crawler does).",
        f"Both include launching Chromium; best of {args.rounds} alternating rounds each. Goal: crawl ÷ bare",
        f"≥ {GOAL}.",
        "",
        "| run | product pages | rendered / listings stored | seconds | first page after | pages/s |",
        "|---|---|---|---|---|---|",
        f"| bare Playwright | {args.pages:,} | {bare['rendered']:,} rendered | {bare['seconds']:.1f} | "
        f"{bare['first_s']:.1f} s | {bare['pages_per_s']:.1f} |",
        f"| tisiwatch crawl | {args.pages:,} | {full['stored']:,} stored | {full['seconds']:.1f} | "
        f"{full['first_s']:.1f} s | {full['pages_per_s']:.1f} |",
        "",
        f"Ratio crawl ÷ bare: **{ratio:.2f}** ({verdict} the goal). {stored}",
        "",
    ])  # fmt: skip


def browser_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options of the browser benchmarks (this one and ``bench.bench_capture``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--pages", type=int, default=400, help="product pages to render (default 400)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="pages at a time on both sides (default: the profile's 4)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; best of each side counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = browser_arguments(__doc__.splitlines()[0] if __doc__ else None)
    args = parser.parse_args(argv)
    timeout_s = load_profile(PROFILE).browser.timeout_s
    ids = [listing.item_id for listing in generate(args.seed, args.pages, 1) if listing.shop == "browser"]
    bares: list[dict[str, Any]] = []
    fulls: list[dict[str, Any]] = []
    with start_shops(seed=args.seed, size=args.pages, day=1, faults=False) as shops:
        urls = [shops.product_url("browser", item_id) for item_id in ids[: args.pages]]
        if len(urls) < args.pages:
            parser.error(f"the shop has only {len(urls)} product pages")
        for n in range(args.rounds):
            order = ("bare", "crawl") if n % 2 == 0 else ("crawl", "bare")
            for side in order:
                if side == "bare":
                    bares.append(run_bare(urls, args.concurrency, timeout_s))
                    figures = bares[-1]
                    extra = f"{figures['rendered']:,} rendered, {figures['failed']:,} failed"
                else:
                    fulls.append(run_crawl(shops.urls["browser"], urls, args.concurrency))
                    figures = fulls[-1]
                    extra = (
                        f"{figures['stored']:,} listings stored, {figures['items']:,} items, "
                        f"run {figures['status']}, errors {figures['errors']}"
                    )
                print(
                    f"round {n + 1} {side}: {figures['pages']:,} pages in {figures['seconds']:.1f} s "
                    f"= {figures['pages_per_s']:.1f} pages/s (first page after {figures['first_s']:.1f} s; {extra})",
                    flush=True,
                )
    bare = max(bares, key=lambda f: f["pages_per_s"])
    full = max(fulls, key=lambda f: f["pages_per_s"])
    all_ok = all(f["stored"] == args.pages for f in fulls)
    ratio = full["pages_per_s"] / bare["pages_per_s"]
    print(f"bare Playwright: {bare['pages_per_s']:.1f} pages/s (best of {len(bares)})")
    print(f"tisiwatch crawl: {full['pages_per_s']:.1f} pages/s (best of {len(fulls)})")
    print(f"crawl ÷ bare = {ratio:.2f} (goal ≥ {GOAL})")
    print(
        "the crawl stored every page"
        if all_ok
        else f"the crawl did NOT store every page: {[f['stored'] for f in fulls]} of {args.pages}"
    )
    if not args.no_write:
        write_section(SECTION, section(args, bare, full, all_ok))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0 if ratio >= GOAL and all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
