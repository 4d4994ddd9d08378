"""Benchmark: product pages per second of the token shop through the capturing browser profile,
against a bare Playwright loop that captures the same JSON.

    python -m bench.bench_capture [--pages 400] [--concurrency 4] [--rounds 2] [--no-write]

Starts the demo shops (``--pages`` listings a shop, no fault pages) and takes the token shop's first
``--pages`` product pages (``/p/ID``: an empty shell whose script computes a token and fetches the
item's JSON with it). *crawl*: tisiwatch's real crawl of those URLs — ``crawler.runner.crawl`` with the
demo-token profile (``[capture]``: a response handler and a page method that waits for the item JSON,
``capture:`` fields read from it), scrapy-playwright and Debian's Chromium, validation and the store
pipeline into SQLite, evidence off (as in the browser benchmark) — timed around the whole call.
*bare*: in the same run, an async Playwright loop over the same URLs: one Chromium, one context,
``--concurrency`` pages at a time, each with a ``response`` handler that reads the body of the answer
matching the profile's ``capture.item`` pattern, ``goto``, wait until that body is read and
``#app h1`` is there, ``page.content()``, close; images, fonts and media skipped as the crawler skips
them. Rounds alternate the order and the best of each side counts. Goal: crawl ÷ bare ≥ 0.8.
Replaces the "Capture mode" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from datetime import date
from functools import partial
from typing import Any

from bench.bench_browser import SKIPPED, browser_arguments, run_crawl
from bench.harness import DOC, ROOT, machine, write_section
from crawler.profile import load_profile
from crawler.spiders.browser import CHROMIUM, CHROMIUM_ARGS
from demo.generator import generate
from demo.server import start_shops

SECTION = "## Capture mode (the page's own JSON vs bare Playwright)"
GOAL = 0.8
PROFILE = "demo-token"


async def _bare(
    urls: list[str], concurrency: int, timeout_ms: float, pattern: str, wait_for: str
) -> dict[str, Any]:
    from playwright.async_api import Response, Route, async_playwright

    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    done = {"pages": 0, "captured": 0, "bytes": 0, "failed": 0}

    async def skip_heavy(route: Route) -> None:
        if route.request.resource_type in SKIPPED:
            await route.abort()
        else:
            await route.continue_()

    async def capture(arrived: asyncio.Future[bytes], response: Response) -> None:
        if re.search(pattern, response.url) and not arrived.done():
            body = await response.body()
            if not arrived.done():
                arrived.set_result(body)

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
                arrived: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

                page.on("response", partial(capture, arrived))
                try:
                    await page.goto(url, timeout=timeout_ms)
                    body = await asyncio.wait_for(arrived, timeout_ms / 1000)
                    await page.wait_for_selector(wait_for, state="attached", timeout=timeout_ms)
                    html = await page.content()
                    done["captured"] += 1
                    done["bytes"] += len(body) + len(html)
                except Exception:
                    done["failed"] += 1
                finally:
                    await page.close()
                done["pages"] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        await context.close()
        await browser.close()
    seconds = time.perf_counter() - started
    return {**done, "seconds": seconds, "pages_per_s": done["pages"] / seconds}


def section(
    args: argparse.Namespace, bare: dict[str, Any], full: dict[str, Any], all_ok: bool, note: str
) -> str:
    ratio = full["pages_per_s"] / bare["pages_per_s"]
    verdict = "meets" if ratio >= GOAL else f"misses by {GOAL - ratio:.2f}"
    command = f"python -m bench.bench_capture --pages {args.pages} --concurrency {args.concurrency}"
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
        f"The demo token shop's first {args.pages:,} product pages (`/p/ID`: an empty shell whose script",
        "computes a per-page token and fetches the item's JSON with it; a call without the token answers",
        "403). *crawl*: `crawler.runner.crawl(settings, [demo-token], urls=…, queries=[])` — the",
        "`[capture]` profile (a Playwright response handler, a page method that waits for the item JSON,",
        "`capture:` fields), scrapy-playwright and Debian's Chromium, validation and the store pipeline",
        "into SQLite, evidence off — timed around the whole call. *bare* (baseline, same run): an async",
        f"Playwright loop over the same URLs, one Chromium, {args.concurrency} pages at a time, each with a",
        "`response` handler that reads the body of the item JSON, goto, wait for that body and `#app h1`,",
        "`page.content()`, close; images, fonts and media skipped as the crawler does. Both include",
        f"launching Chromium; best of {args.rounds} alternating rounds each. Goal: crawl ÷ bare ≥ {GOAL}.",
        "",
        "| run | product pages | JSON captured / listings stored | seconds | pages/s |",
        "|---|---|---|---|---|",
        f"| bare Playwright | {args.pages:,} | {bare['captured']:,} captured | {bare['seconds']:.1f} | "
        f"{bare['pages_per_s']:.1f} |",
        f"| tisiwatch crawl | {args.pages:,} | {full['stored']:,} stored | {full['seconds']:.1f} | "
        f"{full['pages_per_s']:.1f} |",
        "",
        f"Ratio crawl ÷ bare: **{ratio:.2f}** ({verdict} the goal). {stored}{note}",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = browser_arguments(__doc__.splitlines()[0] if __doc__ else None)
    args = parser.parse_args(argv)
    profile = load_profile(PROFILE)
    assert profile.capture is not None
    timeout_ms = profile.browser.timeout_s * 1000
    ids = [listing.item_id for listing in generate(args.seed, args.pages, 1) if listing.shop == "token"]
    bares: list[dict[str, Any]] = []
    fulls: list[dict[str, Any]] = []
    with start_shops(seed=args.seed, size=args.pages, day=1, faults=False) as shops:
        urls = [shops.product_url("token", item_id) for item_id in ids[: args.pages]]
        if len(urls) < args.pages:
            parser.error(f"the shop has only {len(urls)} product pages")
        for n in range(args.rounds):
            for side in ("bare", "crawl") if n % 2 == 0 else ("crawl", "bare"):
                if side == "bare":
                    figures = asyncio.run(
                        _bare(
                            urls, args.concurrency, timeout_ms, profile.capture.item, profile.browser.wait_for
                        )
                    )
                    bares.append(figures)
                    extra = f"{figures['captured']:,} captured, {figures['failed']:,} failed"
                else:
                    figures = run_crawl(shops.urls["token"], urls, args.concurrency, PROFILE)
                    fulls.append(figures)
                    extra = (
                        f"{figures['stored']:,} stored, run {figures['status']}, errors {figures['errors']}"
                    )
                print(f"round {n + 1} {side}: {figures['pages']:,} pages in {figures['seconds']:.1f} s "
                      f"= {figures['pages_per_s']:.1f} pages/s ({extra})", flush=True)  # fmt: skip
    bare = max(bares, key=lambda f: f["pages_per_s"])
    full = max(fulls, key=lambda f: f["pages_per_s"])
    all_ok = all(f["stored"] == args.pages for f in fulls)
    ratio = full["pages_per_s"] / bare["pages_per_s"]
    print(
        f"bare Playwright: {bare['pages_per_s']:.1f} pages/s; tisiwatch crawl: {full['pages_per_s']:.1f} pages/s"
    )
    print(f"crawl ÷ bare = {ratio:.2f} (goal ≥ {GOAL})")
    if not args.no_write:
        write_section(SECTION, section(args, bare, full, all_ok, ""))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0 if ratio >= GOAL and all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
