"""Benchmark: the match stage end to end (``match_pending``) on SQLite and PostgreSQL.

    python -m bench.bench_match [--listings 30000] [--no-write]

Stores ``--listings`` demo listings (titles, descriptions and spec tables as sellers write them)
through the crawler's write path, under the default register with the listings' own licences (topped
up to a 100,000-row licence register, as in ``bench_matcher``) and unsafe list, then times
``match_pending``: first with every listing new, then again after a register import (a new register
version: every listing is judged again, as after a real update). Baseline in the same run:
``Judge.judge`` over the same listings in memory, so the ratio is the share of the stage's time spent
judging rather than reading and writing the database. The issue sets no goal for this figure. Replaces the "Match stage" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bench.bench_matcher import SEED, licence_register, rate
from bench.harness import DOC, ROOT, machine, on_each_database, table_rows, write_section
from config import Settings, load_settings
from demo.generator import DemoListing, generate
from demo.writer import write_registers
from matchers.match import BATCH, build_judge, match_pending
from matchers.register import ensure_default_register, import_register, load_register
from matchers.verdict import ListingFacts
from store.db import Store
from store.writer import Sighting, ensure_site, store_sightings

SECTION = "## Match stage"
STORE_BATCH = 500


def stored(store: Store, folder: Path, listings: Sequence[DemoListing], licences: int) -> Path:
    """A store with the registers and ``listings`` in it; the unsafe list's file, to import again."""
    store.migrate()
    ensure_default_register(store)
    demo = write_registers(folder / "demo", seed=SEED, size=max(1, len(listings) // 3), last_day=1)
    import_register(store, licence_register(folder, demo["licences"], licences), kind="licences")
    unsafe = demo["unsafe"]
    import_register(store, unsafe, kind="unsafe")
    with store.session() as session:
        site = ensure_site(session, "bench", "html")
        for start in range(0, len(listings), STORE_BATCH):
            store_sightings(
                session,
                site,
                None,
                [
                    Sighting(f"m{start + n}", f"https://shop.example/p/{start + n}", d.title, d.description,
                             d.brand, d.model, spec=d.spec)
                    for n, d in enumerate(listings[start : start + STORE_BATCH])
                ],
            )  # fmt: skip
        session.commit()
    return unsafe


def timed_stage(store: Store, settings: Settings, unsafe: Path) -> dict[str, float]:
    """Listings/s of ``match_pending`` on new listings, then after a register import."""
    started = time.perf_counter()
    first = match_pending(store, settings)
    first_s = time.perf_counter() - started
    import_register(store, unsafe, kind="unsafe")  # a new register version
    started = time.perf_counter()
    again = match_pending(store, settings)
    again_s = time.perf_counter() - started
    return {"new": first.judged / first_s, "again": again.judged / again_s}


def judge_rate(store: Store, settings: Settings, listings: Sequence[DemoListing]) -> float:
    """Baseline: ``Judge.judge`` over the same listings in memory, under the same register."""
    with store.session() as session:
        judge = build_judge(load_register(session), settings)
    facts = [
        ListingFacts(d.title, d.description, d.spec, d.brand, d.model, date(2026, 11, 25)) for d in listings
    ]
    rate(facts[:2000], judge.judge)  # warm-up, as the stage's first batch warms its caches
    return rate(facts, judge.judge)


def section(count: int, results: dict[str, dict[str, float] | str]) -> str:
    lines = [
        SECTION, "",
        f"`python -m bench.bench_match --listings {count}` — {date.today().isoformat()}, {machine()}.", "",
        f"{count:,} demo listings stored through the crawler's write path, under the default register, their",
        "own licences topped up to a 100,000-row licence register, and their unsafe list; `match_pending`",
        "judges them all (new), then all again after a register import. Listings are read "
        f"{BATCH:,} at a time.",
        "Baseline in the same run: `Judge.judge` over the same listings in memory; stage ÷ judge is the",
        "share of the stage's time spent judging. No goal is set for this figure.", "",
        "| database | new listings/s | after a register import, listings/s | judge alone, listings/s | stage ÷ judge |",
        "|---|---|---|---|---|",
    ]  # fmt: skip
    lines += table_rows(results, lambda r: [f"{r['new']:,.0f}", f"{r['again']:,.0f}", f"{r['judge']:,.0f}",
                                            f"{min(r['new'], r['again']) / r['judge']:.2f}"], columns=5)  # fmt: skip
    return "\n".join(lines) + "\n"


def run(store: Store, listings: Sequence[DemoListing], licences: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        unsafe = stored(store, folder, listings, licences)
        settings = load_settings(overrides={"data_dir": tmp}, environ={})
        result = timed_stage(store, settings, unsafe)
        result["judge"] = judge_rate(store, settings, listings)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listings", type=int, default=30_000)
    parser.add_argument("--licences", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    listings = list(generate(seed=SEED, size=max(1, args.listings // 3)))[: args.listings]
    results = on_each_database(lambda store: run(store, listings, args.licences))
    for name, result in results.items():
        print(f"{name}: {result}")
    if not args.no_write:
        write_section(SECTION, section(len(listings), results))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
