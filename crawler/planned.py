"""A run of the daily plan: its budget, its plan from the store (``crawler.budget``), and afterwards
the account of what it did and left for the next run (``stats["budget"]``, shown by ``tisiwatch runs``).

The plan's re-checks are kept in ``stats["budget"]["urls"]`` while the run may be resumed (a resumed
run crawls the same plan); the account replaces them by counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from config import Settings
from crawler.budget import BudgetPlan, plan_budget
from crawler.profile import SiteProfile
from crawler.resume import RESUMABLE
from store.models import CrawlRun
from store.planning import (
    KnownListing,
    known_listings,
    observed_ids,
    rotation_at,
    searched_words,
    word_history,
)

Address = Callable[[SiteProfile, str, str], str]
"""Where a known listing is fetched (``crawler.runner``'s rule for re-checks)."""


def budget_of(settings: Settings, profile: SiteProfile) -> int:
    """The site's requests per planned run: its profile's ``[budget]``, else ``crawl.daily_requests``
    (0: no budget — the run searches every word, as an unplanned crawl does)."""
    return profile.budget.requests if profile.budget is not None else settings.crawl.daily_requests


def make_plan(
    session: Session, profile: SiteProfile, site_id: int, words: list[str], budget: int, address: Address
) -> tuple[BudgetPlan[tuple[str, str]], dict[str, Any]]:
    """The run's plan (re-checks as ``(url, marketplace id)``) and the ``stats["budget"]`` it starts with."""

    def target(listing: KnownListing) -> tuple[str, str]:
        url = listing.fetched_url or address(profile, listing.marketplace_id, listing.url)
        return url, listing.marketplace_id

    if not profile.discovery.search_url:  # a site without search is discovered by its categories or sitemap
        words = []
    known = known_listings(session, site_id)
    first = [target(listing) for listing in known if listing.first]  # open violations and open cases
    others = [target(listing) for listing in known if not listing.first]
    plan = plan_budget(
        budget, first, words, word_history(session, site_id), rotation_at(session, site_id), others
    )
    choice = plan.words
    record = {
        "requests": budget,
        "open": {"planned": len(plan.open_rechecks), "of": plan.open_total},
        "words": {
            "planned": len(choice.words), "of": plan.words_total, "productive": choice.productive,
            "rotation_at": choice.rotation_at, "rotation_planned_next": choice.rotation_next,
            "estimated_requests": choice.estimated,
        },
        "others": {"planned": len(plan.other_rechecks), "of": plan.others_total},
        "notes": plan.notes,
        "urls": {"open": plan.open_rechecks, "others": plan.other_rechecks, "rotation": choice.rotation},
        "queries": choice.words,
    }  # fmt: skip
    return plan, record


@dataclass(frozen=True)
class PlannedWork:
    """What a planned run's crawl is given, from its plan (``stats["budget"]``)."""

    queries: list[str]
    first: list[str]
    late: list[str]
    listing_ids: dict[str, str]
    budget: int

    @classmethod
    def of(cls, stats: Mapping[str, Any], resumes: int) -> PlannedWork:
        """The work of a run; a resumed run has what it spent before deducted from its budget."""
        record = stats.get("budget") or {}
        targets = record.get("urls") or {}
        first = [(str(url), str(mid)) for url, mid in targets.get("open") or []]
        late = [(str(url), str(mid)) for url, mid in targets.get("others") or []]
        budget = int(record.get("requests") or 0)
        if resumes:
            workers = (stats.get("workers") or {}).values()
            budget = max(budget - sum(int(w.get("requests") or 0) for w in workers), 1)
        queries = [str(word) for word in record.get("queries") or []]
        return cls(queries, [u for u, _ in first], [u for u, _ in late], dict(first + late), budget)


def account(session: Session, run_id: int, words_in_order: list[str]) -> dict[str, Any] | None:
    """Close a planned run's account: what it did of its plan and what it left for the next run;
    the rotation's next position is the first rotation word the run did not search. Returns the
    stored record (None for a run without a plan)."""
    run = session.get_one(CrawlRun, run_id)
    record = dict((run.stats or {}).get("budget") or {})
    if not record.get("requests") or "urls" not in record or run.status in RESUMABLE:
        return None
    urls: Mapping[str, list[list[str]]] = record.pop("urls")
    planned_words: list[str] = record.pop("queries", [])
    seen = observed_ids(session, run_id)
    searched = searched_words(session, run_id)
    left: dict[str, int] = {}
    for key in ("open", "others"):
        targets = urls.get(key) or []
        done = sum(1 for _, mid in targets if mid in seen)
        record[key] = {**record.get(key, {}), "done": done}
        left[key] = len(targets) - done + (record[key].get("of", 0) - len(targets) if key == "open" else 0)
    words = dict(record.get("words") or {})
    words["done"] = sum(1 for word in planned_words if word in searched)
    left["words"] = len(planned_words) - words["done"]
    rotation = urls.get("rotation") or []
    missed = [word for word in rotation if word not in searched]
    next_at = words.get("rotation_planned_next", 0)
    if missed and words_in_order:
        position = {word: index for index, word in enumerate(words_in_order)}
        next_at = position.get(str(missed[0]), next_at)
    words["rotation_next"] = next_at
    record["words"] = words
    record["left"] = left
    record["spent"] = int((run.stats or {}).get("requests") or 0)
    run.stats = {**(run.stats or {}), "budget": record}
    session.flush()
    return record
