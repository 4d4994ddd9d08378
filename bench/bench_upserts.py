"""Benchmark: listing upserts per second into SQLite and PostgreSQL, through the crawler's write path.

    python -m bench.bench_upserts [--listings 50000] [--batch 200] [--no-write]

Stores ``--listings`` new sightings in batches with ``store.writer.store_sightings`` (upsert the
listing, add an observation), then the same listings again (every one an update), and compares with
a baseline in the same run: plain bulk INSERTs of the same listing rows, with no conflict handling and
no observations. Goal: ≥ 5,000 upserts/s on each database. Replaces the "Listing upserts" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from decimal import Decimal

from sqlalchemy import insert

from bench.harness import DOC, ROOT, machine, on_each_database, table_rows, write_section
from store.clock import utcnow
from store.db import Store
from store.models import Listing
from store.writer import Sighting, ensure_site, store_sightings

SECTION = "## Listing upserts"
GOAL = 5_000


def sightings(count: int, round_: int) -> list[Sighting]:
    return [
        Sighting(
            marketplace_id=f"p{n:07d}",
            url=f"https://shop.example/product/p{n:07d}",
            title=f"พาวเวอร์แบงค์ {n % 97} 10000mAh ชาร์จเร็ว มอก.2879-2560 รอบ {round_}",
            description="ได้รับใบอนุญาต มอก. เลขที่ ท1234-56/2879 " * 3,
            brand="Eloop",
            model=f"E{n % 50}",
            price=Decimal("459.00") + round_,
            currency="THB",
            seller_name=f"ร้าน {n % 300}",
            spec={"มาตรฐาน": "มอก. 2879-2560", "ความจุ": "10000mAh", "เลขที่ใบอนุญาต": "ท1234-56/2879"},
            images=[f"https://shop.example/img/p{n}.jpg"],
        )
        for n in range(count)
    ]


def timed_upserts(store: Store, batch: list[Sighting], size: int) -> float:
    with store.session() as session:
        site = ensure_site(session, "bench", "html")
    started = time.perf_counter()
    for start in range(0, len(batch), size):
        with store.session() as session:  # one transaction per batch, as the StorePipeline does
            store_sightings(session, site, None, batch[start : start + size])
    return time.perf_counter() - started


def timed_plain_inserts(store: Store, count: int, size: int) -> float:
    """Baseline: the same listing rows, bulk INSERT only (no conflict handling, no observations)."""
    with store.session() as session:
        site_id = ensure_site(session, "baseline", "html").id
    now = utcnow()
    rows = [
        {"listing_key": f"baseline:p{n:07d}", "site_id": site_id, "marketplace_id": f"p{n:07d}",
         "url": f"https://shop.example/product/p{n:07d}", "title": f"พาวเวอร์แบงค์ {n % 97}",
         "seller_name": f"ร้าน {n % 300}", "first_seen": now, "last_seen": now}
        for n in range(count)
    ]  # fmt: skip
    started = time.perf_counter()
    for start in range(0, count, size):
        with store.session() as session:
            session.execute(insert(Listing.__table__), rows[start : start + size])
    return time.perf_counter() - started


def run(store: Store, count: int, size: int) -> dict[str, float]:
    store.migrate()
    baseline = timed_plain_inserts(store, count, size)
    first = timed_upserts(store, sightings(count, 1), size)
    second = timed_upserts(store, sightings(count, 2), size)
    return {"baseline": count / baseline, "new": count / first, "update": count / second}


def section(count: int, size: int, results: dict[str, dict[str, float] | str]) -> str:
    lines = [
        SECTION,
        "",
        f"`python -m bench.bench_upserts` — {date.today().isoformat()}, {machine()}.",
        "",
        f"{count:,} listings stored through `store_sightings` in batches of {size} (one transaction each,",
        "as the crawler's StorePipeline does): first as new listings, then all again as updates. Each",
        "upsert also appends an observation. Baseline in the same run: plain bulk INSERTs of the same",
        f"listing rows without conflict handling or observations. Goal: ≥ {GOAL:,} upserts/s.",
        "",
        "| database | new listings/s | updated listings/s | baseline inserts/s | upsert ÷ baseline |",
        "|---|---|---|---|---|",
    ]
    lines += table_rows(results, lambda r: [f"{r['new']:,.0f}", f"{r['update']:,.0f}", f"{r['baseline']:,.0f}",
                                            f"{min(r['new'], r['update']) / r['baseline']:.2f}"], columns=5)  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listings", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    results = on_each_database(lambda store: run(store, args.listings, args.batch))
    for name, result in results.items():
        print(f"{name}: {result}")
    if not args.no_write:
        write_section(SECTION, section(args.listings, args.batch, results))
        print(f"updated {DOC.relative_to(ROOT)}")
    rates = [min(r["new"], r["update"]) for r in results.values() if isinstance(r, dict)]
    return 0 if rates and min(rates) >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
