"""Benchmark: peak memory of the crawl process over a large HTML crawl, and whether it grows with pages.

    python -m bench.bench_memory [--pages 100000] [--evidence] [--baseline-pages 100] [--no-write]

Starts the demo shops with ``--pages`` listings a shop (no fault pages; the shops' own process holds
them, which is not measured) and crawls the demo HTML shop by its sitemap with
``crawler.runner.crawl`` (``queries=[]``, into a SQLite store, evidence off unless ``--evidence``).
A thread samples the crawl process (the child ``python -m crawler.worker`` of this process, found in
/proc) every second: VmRSS and VmHWM from /proc/PID/status against the pages and listings counted by
the crawl's progress events so far. Baseline in the same run, against the same shops: the crawl
process of a ``--baseline-pages`` crawl of explicit product URLs (an almost idle worker), so the
figure reads as growth over what any crawl process costs. Reports the peak (VmHWM), RSS at 10, 25,
50, 75 and 100 % of the pages, the growth from 25 % to 100 % (and its slope per 10,000 pages), after
how many pages RSS reached 95 % of its peak, and pages/s. Goal: peak ≤ 600 MB and no growth with
pages. Replaces the "Memory of a large HTML crawl" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.harness import DOC, ROOT, machine, write_section
from config import load_settings
from crawler.profile import load_profile
from crawler.runner import crawl
from demo.generator import generate
from demo.server import start_shops
from store.db import Store
from store.models import Listing, Site

SECTION = "## Memory of a large HTML crawl"
GOAL_MB = 600
FLAT_MB_PER_10K = 5.0
FLAT_MB = 10.0
"""RSS counts as growing with pages when, from 25 % to 100 % of the pages, it rose by at least
``FLAT_MB`` and its slope is at least ``FLAT_MB_PER_10K`` per 10,000 pages (a short run's few MB
of noise are not growth)."""
PROFILE = "demo-html"
POINTS = (0.10, 0.25, 0.50, 0.75, 1.00)
MB = 1_000_000 / 1024
"""kB (as /proc counts them, 1,024 bytes) in one MB (10⁶ bytes)."""


@dataclass
class Sample:
    seconds: float
    pages: int
    items: int
    rss_kb: int
    hwm_kb: int
    done: bool = False
    """Taken after the crawl's last progress event: the process is closing down, freeing memory."""


def worker_pid(parent: int) -> int | None:
    """The crawl process: a child of ``parent`` whose command line is ``python -m crawler.worker``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"crawler.worker" not in argv:
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:  # field 4, after "pid (comm) state"
            return int(entry.name)
    return None


def memory_kb(pid: int) -> tuple[int, int] | None:
    """VmRSS and VmHWM of ``pid`` in kB, or None once it has gone."""
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount = line.split(":", 1)
                values[name] = int(amount.split()[0])
    except OSError:
        return None
    if "VmRSS" not in values:  # a zombie has no memory lines
        return None
    return values["VmRSS"], values.get("VmHWM", values["VmRSS"])


@dataclass
class Sampler:
    """Samples the crawl process's memory every ``interval`` seconds against the crawl's progress."""

    interval: float = 1.0
    samples: list[Sample] = field(default_factory=list)
    pages: int = 0
    items: int = 0
    done: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.perf_counter)

    def on_progress(self, event: dict[str, Any]) -> None:
        self.pages, self.items = int(event.get("pages", 0)), int(event.get("items", 0))
        self.done = bool(event.get("done"))

    def run(self) -> None:
        pid: int | None = None
        while not self.stop.is_set():
            pid = pid or worker_pid(os.getpid())
            memory = memory_kb(pid) if pid else None
            if memory is not None:
                self.samples.append(
                    Sample(time.perf_counter() - self.started, self.pages, self.items, *memory, self.done)
                )
            elif pid is not None and self.samples:
                pid = None  # it has ended; keep looking in case of another
            self.stop.wait(self.interval)


def measured_crawl(
    settings_overrides: dict[str, Any], base_url: str, urls: list[str], interval: float
) -> dict[str, Any]:
    """One crawl of the demo HTML shop (its sitemap, or ``urls``) with its crawl process sampled."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(overrides={"data_dir": tmp, **settings_overrides}, environ={})
        profile = load_profile(PROFILE).with_base_url(base_url)
        store = Store.from_settings(settings)
        store.migrate()
        sampler = Sampler(interval)
        thread = threading.Thread(target=sampler.run, name="rss-sampler", daemon=True)
        thread.start()
        started = time.perf_counter()
        try:
            results = crawl(
                settings, [profile], queries=[], urls=urls, store=store, on_progress=sampler.on_progress
            )
        finally:
            seconds = time.perf_counter() - started
            sampler.stop.set()
            thread.join()
        with store.session() as session:
            stored = session.scalar(
                select(func.count(Listing.id)).join(Site).where(Site.name == profile.name)
            )
        store.dispose()
    stats = results[0].stats if results else {}
    return {
        "samples": sampler.samples,
        "seconds": seconds,
        "pages": int(stats.get("pages", 0) or sampler.pages),
        "items": int(stats.get("items", 0) or sampler.items),
        "stored": int(stored or 0),
        "status": results[0].status if results else "none",
        "errors": stats.get("errors", {}),
    }


def analyse(run: dict[str, Any]) -> dict[str, Any]:
    """Peak, RSS at fractions of the pages, growth and slope from 25 % on, pages/s."""
    if not run["samples"]:
        raise RuntimeError("no memory samples of the crawl process (did it start?)")
    peak_kb = max(s.hwm_kb for s in run["samples"])
    samples: list[Sample] = [s for s in run["samples"] if not s.done] or run["samples"]
    total = max(run["pages"], 1)
    at: dict[float, Sample] = {}
    for point in POINTS:
        reached = [s for s in samples if s.pages >= point * total]
        at[point] = reached[0] if reached and point < 1 else samples[-1]
    late = [s for s in samples if s.pages >= 0.25 * total]
    slope = 0.0
    if len(late) >= 2 and late[-1].pages > late[0].pages:
        mean_p = sum(s.pages for s in late) / len(late)
        mean_r = sum(s.rss_kb for s in late) / len(late)
        num = sum((s.pages - mean_p) * (s.rss_kb - mean_r) for s in late)
        den = sum((s.pages - mean_p) ** 2 for s in late)
        slope = num / den * 10_000 / MB if den else 0.0
    near_peak = next(s for s in samples if s.rss_kb >= 0.95 * peak_kb or s is samples[-1])
    return {
        "peak_mb": peak_kb / MB,
        "near_peak": (near_peak.pages, near_peak.seconds),
        "at": {point: (sample.pages, sample.rss_kb / MB) for point, sample in at.items()},
        "growth_mb": (at[1.0].rss_kb - at[0.25].rss_kb) / MB,
        "slope_mb_per_10k": slope,
        "pages_per_s": run["pages"] / run["seconds"],
        "items_per_s": run["items"] / run["seconds"],
        "samples": len(samples),
    }


def is_flat(figures: dict[str, Any]) -> bool:
    return bool(figures["growth_mb"] < FLAT_MB or figures["slope_mb_per_10k"] < FLAT_MB_PER_10K)


def section(
    args: argparse.Namespace, run: dict[str, Any], figures: dict[str, Any], baseline: dict[str, Any]
) -> str:
    base_mb = baseline["peak_mb"]
    near_pages, near_s = figures["near_peak"]
    early = near_pages < 0.05 * run["pages"]
    ratio = figures["peak_mb"] / base_mb
    flat = is_flat(figures)
    meets = figures["peak_mb"] <= GOAL_MB and flat
    command = f"python -m bench.bench_memory --pages {args.pages}" + (" --evidence" if args.evidence else "")
    rows = [
        f"| {round(point * 100)} % | {pages:,} | {rss:,.0f} |"
        for point, (pages, rss) in figures["at"].items()
    ]
    growth = [
        f"From 25 % to 100 % of the pages RSS went {'up' if figures['growth_mb'] >= 0 else 'down'} by "
        f"{abs(figures['growth_mb']):,.0f} MB: a least-squares slope of",
        f"{figures['slope_mb_per_10k']:+.1f} MB per 10,000 pages over that stretch ({'flat' if flat else 'growing'};",
        f"growing means ≥ {FLAT_MB:.0f} MB and ≥ {FLAT_MB_PER_10K:.0f} MB per 10,000 pages).",
        f"RSS reached 95 % of its peak after {near_pages:,} pages ({near_s:.0f} s)"
        + (", i.e. while the sitemap's URLs were queued, not as pages were crawled." if early else "."),
    ]
    return "\n".join([
        SECTION,
        "",
        f"`{command}` — {date.today().isoformat()}, {machine()}.",
        "",
        f"The demo HTML shop with {args.pages:,} products (served by the shops' own process on the same",
        "machine, not measured), crawled by its sitemap with `crawler.runner.crawl` into SQLite, evidence",
        f"{'on' if args.evidence else 'off'}. The crawl process (`python -m crawler.worker`) is sampled every",
        f"{args.interval:g} s from /proc (VmRSS, VmHWM; MB = 10⁶ bytes) against the pages counted by its",
        f"progress events. Baseline in the same run: the crawl process of a {args.baseline_pages}-page crawl",
        f"of explicit product URLs (an almost idle worker). Goal: peak ≤ {GOAL_MB} MB and not growing with pages.",
        "",
        "| run | pages | listings stored | seconds | pages/s | peak RSS (VmHWM) | peak ÷ baseline |",
        "|---|---|---|---|---|---|---|",
        f"| baseline | {baseline['run']['pages']:,} | {baseline['run']['stored']:,} | "
        f"{baseline['run']['seconds']:.1f} | {baseline['pages_per_s']:,.0f} | {base_mb:,.0f} MB | 1.00 |",
        f"| large crawl | {run['pages']:,} | {run['stored']:,} | {run['seconds']:.1f} | "
        f"{figures['pages_per_s']:,.0f} | {figures['peak_mb']:,.0f} MB | {ratio:.2f} |",
        "",
        "| share of pages | pages | RSS (MB) |",
        "|---|---|---|",
        *rows,
        "",
        "(100 %: the last sample before the crawl's final progress event; closing down frees memory.)",
        *growth,
        f"Peak {figures['peak_mb']:,.0f} MB, {figures['peak_mb'] - base_mb:,.0f} MB over the baseline: "
        f"**{'meets' if meets else 'misses'}** the goal.",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=100_000, help="products a shop (default 100,000)")
    parser.add_argument("--evidence", action="store_true", help="keep evidence (WARC) as configured")
    parser.add_argument("--baseline-pages", type=int, default=100)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    overrides = {"crawl": {"evidence": args.evidence}}
    small = min(args.baseline_pages, args.pages)
    ids = [listing.item_id for listing in generate(args.seed, small, 1) if listing.shop == "html"][:small]
    started = time.perf_counter()
    with start_shops(seed=args.seed, size=args.pages, day=1, faults=False) as shops:
        print(
            f"shops up ({args.pages:,} products a shop) in {time.perf_counter() - started:.1f} s", flush=True
        )
        base_run = measured_crawl(
            overrides, shops.urls["html"], [shops.product_url("html", i) for i in ids], args.interval
        )
        baseline = {**analyse(base_run), "run": base_run}
        print(
            f"baseline: {base_run['pages']:,} pages, {base_run['stored']:,} listings in {base_run['seconds']:.1f} s, "
            f"peak RSS {baseline['peak_mb']:,.0f} MB",
            flush=True,
        )
        run = measured_crawl(overrides, shops.urls["html"], [], args.interval)
    figures = analyse(run)
    print(
        f"large crawl: {run['pages']:,} pages, {run['items']:,} items, {run['stored']:,} listings stored, "
        f"run {run['status']}, errors {run['errors']}, {run['seconds']:.1f} s = {figures['pages_per_s']:,.0f} pages/s"
    )
    print(
        f"peak RSS (VmHWM) {figures['peak_mb']:,.0f} MB = {figures['peak_mb'] / baseline['peak_mb']:.2f} × baseline"
    )
    for point, (pages, rss) in figures["at"].items():
        print(f"  RSS at {round(point * 100):>3} % ({pages:,} pages): {rss:,.0f} MB")
    print(
        f"RSS reached 95 % of its peak after {figures['near_peak'][0]:,} pages ({figures['near_peak'][1]:.0f} s)"
    )
    print(
        f"25 % → 100 %: {figures['growth_mb']:+,.0f} MB, slope {figures['slope_mb_per_10k']:+.1f} MB per 10,000 pages "
        f"({figures['samples']} samples)"
    )
    if not args.no_write:
        write_section(SECTION, section(args, run, figures, baseline))
        print(f"updated {DOC.relative_to(ROOT)}")
    flat = is_flat(figures)
    return 0 if figures["peak_mb"] <= GOAL_MB and flat else 1


if __name__ == "__main__":
    sys.exit(main())
