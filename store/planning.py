"""What the daily crawl plan (``crawler.budget``) reads from the store, and the word stats it keeps.

- :func:`known_listings`: a site's listings that are not gone, each with whether a violation is open on
  it — by the same rule as the daily report's status (``reports.findings``): a violation is open from
  its last violating live observation until a later gone or compliant one; ``needs_review`` and
  unjudged observations neither open nor close it — and whether its case was sent to ETDA and is still
  open (``store.takedowns``: re-checked daily until the listing is gone). Oldest sighting first.
- :func:`word_history`: per search word, the requests it cost and the violations it led to in the
  site's earlier runs (table ``search_words``, written by the crawl: :func:`record_words`).
- :func:`rotation_at`: where the rotation through the register's keywords stands for a site.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from core.verdicts import COMPLIANT, VIOLATIONS
from store.models import CaseSend, CrawlRun, Listing, Observation, SearchWord, Verdict
from store.takedowns import OPEN

PLANNED_MODE = "budget"
"""The mode of a crawl run made by the daily plan."""


@dataclass(frozen=True, slots=True)
class KnownListing:
    """A listing a plan may re-check."""

    marketplace_id: str
    url: str
    fetched_url: str | None
    last_seen: datetime
    open_violation: bool
    sent_case: bool = False
    """Its case was sent to ETDA and the listing has not been found gone since."""

    @property
    def first(self) -> bool:
        """Re-checked first, before the searches: an open violation or an open case."""
        return self.open_violation or self.sent_case


@dataclass(frozen=True, slots=True)
class WordHistory:
    """One search word's record on one site, over the runs that searched it."""

    runs: int
    requests: int
    """Requests the word cost over those runs (result pages + listing pages)."""
    violations: int
    """Listings it led to that were judged a violation (each counted once)."""
    last_cost: int
    """Requests it cost in its latest run: the estimate of its next search."""
    last_run: int

    @property
    def productivity(self) -> float:
        """Violations found per request."""
        return self.violations / self.requests if self.requests else 0.0


def _verdict_of_observation() -> Any:
    """The verdict of the enclosing query's observation under the highest register version, newest first."""
    chosen = aliased(Verdict, name="chosen")
    return (
        select(chosen.verdict)
        .where(chosen.observation_id == Observation.id)
        .order_by(chosen.register_version_id.desc(), chosen.created_at.desc(), chosen.id.desc())
        .limit(1)
        .correlate(Observation)
        .scalar_subquery()
    )


def known_listings(session: Session, site_id: int) -> list[KnownListing]:
    """The site's listings that are not gone, the least recently seen first, each marked with whether a
    violation is open on it and whether its case sent to ETDA is open."""
    sightings = (
        select(
            Observation.listing_id,
            Observation.observed_at.label("at"),
            Observation.gone,
            _verdict_of_observation().label("verdict"),
        )
        .join(Listing, Listing.id == Observation.listing_id)
        .where(Listing.site_id == site_id, Listing.gone_at.is_(None))
        .subquery("sightings")
    )
    live = sightings.c.gone.is_(False)
    violating = and_(live, sightings.c.verdict.in_(VIOLATIONS))
    resolving = or_(sightings.c.gone.is_(True), sightings.c.verdict.in_(COMPLIANT))
    events = (
        select(
            sightings.c.listing_id,
            func.max(case((violating, sightings.c.at))).label("violated"),
            func.max(case((resolving, sightings.c.at))).label("resolved"),
        )
        .group_by(sightings.c.listing_id)
        .subquery("events")
    )
    sent = (
        select(CaseSend.listing_id)
        .join(Listing, Listing.id == CaseSend.listing_id)
        .where(Listing.site_id == site_id, CaseSend.status.in_(OPEN))
        .distinct()
        .subquery("sent")
    )
    rows = session.execute(
        select(
            Listing.marketplace_id,
            Listing.url,
            Listing.fetched_url,
            Listing.last_seen,
            events.c.violated,
            events.c.resolved,
            sent.c.listing_id.label("sent"),
        )
        .outerjoin(events, events.c.listing_id == Listing.id)
        .outerjoin(sent, sent.c.listing_id == Listing.id)
        .where(Listing.site_id == site_id, Listing.gone_at.is_(None))
        .order_by(Listing.last_seen, Listing.id)
    )
    return [
        KnownListing(
            mid,
            url,
            fetched,
            seen,
            violated is not None and (resolved is None or violated > resolved),
            sent_case is not None,
        )
        for mid, url, fetched, seen, violated, resolved, sent_case in rows
    ]


def violating_ids(session: Session, site_id: int) -> set[str]:
    """The marketplace ids of the site's listings that were ever judged a violation."""
    query = (
        select(Listing.marketplace_id)
        .join(Verdict, Verdict.listing_id == Listing.id)
        .where(Listing.site_id == site_id, Verdict.verdict.in_(VIOLATIONS))
        .distinct()
    )
    return set(session.scalars(query))


def word_history(session: Session, site_id: int) -> dict[str, WordHistory]:
    """Per search word: its runs, requests, violations found and last cost on the site."""
    bad = violating_ids(session, site_id)
    per_run: dict[str, dict[int, int]] = {}
    found: dict[str, set[str]] = {}
    rows = session.execute(
        select(
            SearchWord.word,
            SearchWord.run_id,
            SearchWord.result_pages,
            SearchWord.listing_pages,
            SearchWord.listing_ids,
        ).where(SearchWord.site_id == site_id)
    )
    for word, run_id, result_pages, listing_pages, ids in rows:
        runs = per_run.setdefault(word, {})
        runs[run_id] = runs.get(run_id, 0) + result_pages + listing_pages
        found.setdefault(word, set()).update(str(i) for i in ids or [] if str(i) in bad)
    history = {}
    for word, runs in per_run.items():
        last = max(runs)
        history[word] = WordHistory(len(runs), sum(runs.values()), len(found[word]), runs[last], last)
    return history


def rotation_at(session: Session, site_id: int) -> int:
    """Where the site's keyword rotation stands: the next word's position, as the latest planned run
    that finished its accounting left it (0 when no run did)."""
    runs = session.scalars(
        select(CrawlRun.stats)
        .where(CrawlRun.site_id == site_id, CrawlRun.mode == PLANNED_MODE)
        .order_by(CrawlRun.id.desc())
        .limit(20)
    )
    for stats in runs:
        words = ((stats or {}).get("budget") or {}).get("words") or {}
        if isinstance(words.get("rotation_next"), int):
            return int(words["rotation_next"])
    return 0


@dataclass
class WordTally:
    """What one word cost and yielded in one worker's crawl (written by :func:`record_words`)."""

    result_pages: int = 0
    listing_pages: int = 0
    listing_ids: set[str] | None = None


def record_words(
    session: Session, run_id: int, site_id: int, worker: str, tallies: Mapping[str, WordTally]
) -> None:
    """Store one worker's word tallies of a run."""
    for word, tally in tallies.items():
        session.add(
            SearchWord(
                run_id=run_id,
                site_id=site_id,
                word=word,
                worker=worker,
                result_pages=tally.result_pages,
                listing_pages=tally.listing_pages,
                listing_ids=sorted(tally.listing_ids or ()),
            )
        )


def searched_words(session: Session, run_id: int) -> set[str]:
    """The words whose search was made in a run (at least one result page requested)."""
    query = select(SearchWord.word).where(SearchWord.run_id == run_id, SearchWord.result_pages > 0)
    return set(session.scalars(query))


def observed_ids(session: Session, run_id: int, among: Iterable[str] = ()) -> set[str]:
    """The marketplace ids of the listings a run observed (live or gone)."""
    query = (
        select(Listing.marketplace_id)
        .join(Observation, Observation.listing_id == Listing.id)
        .where(Observation.run_id == run_id)
    )
    wanted = set(among)
    return {mid for mid in session.scalars(query) if not wanted or mid in wanted}
