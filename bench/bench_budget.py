"""Benchmark: ten days of the demo HTML shop crawled on a budget of 10 % of a full crawl, against a full
crawl each day.

    python -m bench.bench_budget [--size 300] [--days 10] [--share 0.1] [--no-write]

The shop changes every day (``demo.world``: listings added, about a tenth removed, a violation
mended). Each day both crawls search the default register's keywords: *full* searches all of them,
*budget* is the scheduler's daily plan (``crawler.budget``) with a budget of ``--share`` of the
requests the full crawl made on day 1. Each store is judged after its crawl by the demo's ground
truth (the verdicts a perfect matcher would give: the matcher is measured apart), so that the plan
knows which violations are open and which words found them. Per day: the share of the open
violations the budgeted run re-checked (goal 100 %), and the cumulative share of the violations that
appeared from day 2 on that each crawl has found (the curve). Replaces the "Daily crawl budget"
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.harness import machine, write_section
from config import Settings, load_settings
from core.verdicts import VIOLATIONS
from crawler.profile import Budget, SiteProfile, load_profile
from crawler.runner import crawl
from demo.generator import generate_days
from demo.server import start_shops
from matchers.register import ensure_default_register
from store.db import Store
from store.models import Listing, Observation, RegisterVersion, Verdict
from store.register import standard_keywords

SECTION = "## Daily crawl budget"
SEED = 7


@dataclass
class Crawler:
    """One of the two crawls: its settings, store and what it has found."""

    name: str
    settings: Settings
    store: Store
    version: int = 0
    found: set[str] = field(default_factory=set)
    """Listings the store has seen violating (by the truth of the day it saw them)."""


def make_crawler(name: str, folder: Path) -> Crawler:
    crawl_options = {"evidence": False, "images": False, "retries": 1, "autothrottle": False}
    settings = load_settings(overrides={"data_dir": str(folder / name), "crawl": crawl_options}, environ={})
    store = Store.from_settings(settings)
    store.migrate()
    ensure_default_register(store)  # the keywords; the verdicts are recorded under its version
    with store.session() as session:
        version_id = session.scalar(select(func.max(RegisterVersion.id))) or 0
    return Crawler(name, settings, store, version_id)


def judge(crawler: Crawler, run_id: int, truth: dict[str, str]) -> None:
    """Verdicts for a run's observations from the day's truth; remembers the violations seen."""
    with crawler.store.session() as session:
        rows = session.execute(
            select(Observation.id, Observation.listing_id, Observation.gone, Listing.marketplace_id)
            .join(Listing)
            .where(Observation.run_id == run_id)
        ).all()
        for observation_id, listing_id, gone, mid in rows:
            verdict = truth.get(mid, "not_controlled")
            session.add(Verdict(listing_id=listing_id, observation_id=observation_id,
                                register_version_id=crawler.version, matcher_version="truth", verdict=verdict))  # fmt: skip
            if verdict in VIOLATIONS and not gone:
                crawler.found.add(mid)


def run(size: int, days: int, share: float) -> dict[str, Any]:
    history = generate_days(SEED, size, days)
    folder = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    full, budgeted = make_crawler("full", folder), make_crawler("budget", folder)
    with full.store.session() as session:
        words = standard_keywords(session)
    rows: list[dict[str, Any]] = []
    new: set[str] = set()
    budget = 0
    with start_shops(seed=SEED, size=size, day=1, faults=False) as shops:
        profile = load_profile("demo-html").with_base_url(shops.urls["html"])
        for day in range(1, days + 1):
            if day > 1:
                shops.set_day(day)
            listings = [item for item in history[day - 1] if item.shop == "html"]
            truth = {item.item_id: item.expected_verdict for item in listings if item.active_on(day)}
            new |= {
                item.item_id
                for item in listings
                if item.added_on_day == day > 1 and truth.get(item.item_id) in VIOLATIONS
            }
            [whole] = crawl(full.settings, [profile], queries=words, store=full.store)
            judge(full, whole.run_id, truth)
            budget = budget or math.ceil(share * int(whole.stats["requests"]))
            planned = profile.model_copy(update={"budget": Budget(requests=budget)})
            [part] = _planned(budgeted, planned, words)
            judge(budgeted, part.run_id, truth)
            record = part.stats["budget"]
            rows.append({
                "day": day, "full_requests": whole.stats["requests"], "budget_requests": part.stats["requests"],
                "open": record["open"]["of"], "rechecked": record["open"]["done"],
                "words": record["words"]["done"], "new": len(new),
                "full_found": len(new & full.found), "budget_found": len(new & budgeted.found),
            })  # fmt: skip
            print(rows[-1], flush=True)
    return {"size": size, "days": days, "share": share, "budget": budget, "words": len(words), "rows": rows}


def _planned(crawler: Crawler, profile: SiteProfile, words: list[str]) -> Any:
    return crawl(crawler.settings, [profile], queries=words, store=crawler.store, planned=True)


def pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def section(figures: dict[str, Any]) -> str:
    rows = figures["rows"]
    lines = [
        SECTION,
        "",
        f"`python -m bench.bench_budget --size {figures['size']} --days {figures['days']} --share {figures['share']}` — "
        f"{date.today().isoformat()}, {machine()}.",
        "",
        f"The demo HTML shop ({figures['size']} listings on day 1; every day some are added, about a tenth removed",
        f"and one violation mended), searched with the default register's {figures['words']:,} keywords for",
        f"{figures['days']} days. *full*: every keyword each day. *budget*: the daily plan with a budget of",
        f"{figures['budget']:,} requests, {figures['share']:.0%} of what the full crawl needed on day 1. Verdicts come",
        "from the demo's ground truth. *open re-checked*: the budgeted run's re-checks of the listings with an",
        "open violation (goal 100 %); *new found*: of the violations that appeared from day 2 on, the share",
        "each crawl has seen so far.",
        "",
        "| day | full requests | budget requests | words searched | open re-checked | new violations | new found: full | new found: budget |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {r['day']} | {r['full_requests']:,} | {r['budget_requests']:,} | {r['words']:,} | "
          f"{r['rechecked']}/{r['open']} ({pct(r['rechecked'], r['open'])}) | {r['new']} | "
          f"{pct(r['full_found'], r['new'])} | {pct(r['budget_found'], r['new'])} |" for r in rows),
        "",
    ]  # fmt: skip
    open_total = sum(r["open"] for r in rows)
    rechecked = sum(r["rechecked"] for r in rows)
    last = rows[-1]
    lines += [
        f"Open violations re-checked over the {len(rows)} days: **{pct(rechecked, open_total)}** "
        f"({rechecked}/{open_total}); new violations found by day {last['day']}: full "
        f"**{pct(last['full_found'], last['new'])}**, budget **{pct(last['budget_found'], last['new'])}**, "
        f"with {sum(r['budget_requests'] for r in rows) / max(sum(r['full_requests'] for r in rows), 1):.0%} "
        "of the full crawls' requests.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--share", type=float, default=0.1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    text = section(run(args.size, args.days, args.share))
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
