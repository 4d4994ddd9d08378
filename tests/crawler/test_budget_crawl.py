"""A planned crawl of the html demo shop with a small budget: the open violations are re-checked first,
the budget holds (give or take what was in flight), and the run records what it did and left."""

from __future__ import annotations

from sqlalchemy import select

from config import Settings
from crawler.planned import budget_of
from crawler.profile import Budget, Politeness
from crawler.runner import crawl
from demo.server import ShopsHandle
from store.db import Store
from store.models import CrawlRun, Listing, Observation, RegisterVersion, SearchWord, Verdict
from tests.crawler.conftest import profile_for

WORDS = ["พาวเวอร์แบงค์", "ปลั๊ก", "เตารีด"]


def _judge(store: Store, run_id: int, verdicts: dict[str, str]) -> None:
    """Verdicts for the listings a run observed (the matcher's part, written directly)."""
    with store.session() as session:
        version = RegisterVersion(kind="standards", source_name="s.csv", source_sha256="0" * 64, row_count=0)
        session.add(version)
        session.flush()
        rows = session.execute(
            select(Observation.id, Observation.listing_id, Listing.marketplace_id)
            .join(Listing)
            .where(Observation.run_id == run_id)
        )
        for observation_id, listing_id, mid in rows:
            session.add(
                Verdict(
                    listing_id=listing_id,
                    observation_id=observation_id,
                    register_version_id=version.id,
                    matcher_version="m1",
                    verdict=verdicts.get(mid, "not_controlled"),
                )
            )


def test_a_small_budget_rechecks_the_open_violations_first_and_stops(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    profile = profile_for(shops, "html")
    [first] = crawl(crawl_settings, [profile], queries=[], store=store)
    assert first.status == "finished"
    assert (first.stats["items"] or 0) >= 20
    with store.session() as session:
        known = list(session.scalars(select(Listing.marketplace_id).order_by(Listing.id)))
    violations = {mid: "no_licence_shown" for mid in known[-3:]}  # the last ones: no shop order helps them
    _judge(store, first.run_id, violations)

    budgeted = profile.model_copy(
        update={"budget": Budget(requests=5), "politeness": Politeness(concurrency=1)}
    )
    assert budget_of(crawl_settings, budgeted) == 5
    [planned] = crawl(crawl_settings, [budgeted], queries=WORDS, store=store, planned=True)

    assert planned.status == "finished", planned.stats
    with store.session() as session:
        run = session.get_one(CrawlRun, planned.run_id)
        assert run.mode == "budget"
        seen = set(
            session.scalars(
                select(Listing.marketplace_id).join(Observation).where(Observation.run_id == planned.run_id)
            )
        )
        words = list(session.scalars(select(SearchWord.word).where(SearchWord.run_id == planned.run_id)))
    assert set(violations) <= seen
    assert planned.stats["requests"] <= 5 + 1  # one request in flight at a time
    record = planned.stats["budget"]
    assert record["open"] == {"planned": 3, "of": 3, "done": 3}
    assert record["left"]["open"] == 0
    assert record["words"]["of"] == len(WORDS)
    assert record["others"]["of"] == len(known) - 3
    assert record["spent"] == planned.stats["requests"]
    assert "urls" not in record  # the plan's lists are not kept once the run is accounted for
    # two requests after the three re-checks: the plan's one word (the rotation's first; a word never
    # searched is estimated at 10), whose result page went before any other listing's re-check
    assert words == [WORDS[0]]
    assert (record["words"]["planned"], record["words"]["done"], record["left"]["words"]) == (1, 1, 0)
    assert record["words"]["rotation_next"] == 1
    assert record["others"]["planned"] == 0


def test_without_a_budget_a_planned_crawl_is_an_ordinary_discovery(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    profile = profile_for(shops, "html")
    assert budget_of(crawl_settings, profile) == 0
    [result] = crawl(crawl_settings, [profile], queries=WORDS[:1], store=store, planned=True)
    with store.session() as session:
        run = session.get_one(CrawlRun, result.run_id)
        rows = list(session.scalars(select(SearchWord).where(SearchWord.run_id == result.run_id)))
    assert run.mode == "discover"
    assert "budget" not in result.stats
    # an ordinary crawl keeps its words' cost and yield too: the first planned run can rank them
    [row] = rows
    assert row.word == WORDS[0]
    assert row.result_pages >= 1
    assert len(row.listing_ids) == row.listing_pages >= 1
