"""What the daily plan reads from the store: open violations by the report's rule, the per-word stats."""

from __future__ import annotations

from store.db import Store
from store.models import CrawlRun
from store.planning import (
    PLANNED_MODE,
    WordTally,
    known_listings,
    record_words,
    rotation_at,
    searched_words,
    word_history,
)
from tests.reports.report_builders import DAY1, DAY2, World, bkk


def test_a_violation_is_open_until_a_later_compliant_or_gone_sighting(any_store: Store) -> None:
    with any_store.session() as session:
        world = World(session)
        site = world.site()
        still = world.listing("still")
        world.observe(still, bkk(DAY1), "no_licence_shown")
        world.observe(still, bkk(DAY2), "needs_review")  # review neither opens nor closes
        fixed = world.listing("fixed")
        world.observe(fixed, bkk(DAY1), "invalid_licence")
        world.observe(fixed, bkk(DAY2), "licensed")
        again = world.listing("again")
        world.observe(again, bkk(DAY1), "licensed")
        world.observe(again, bkk(DAY2, 9), "unsafe")
        clean = world.listing("clean")
        world.observe(clean, bkk(DAY1, 8), "not_controlled")
        unjudged = world.listing("unjudged")
        world.observe(unjudged, bkk(DAY1, 9))
        removed = world.listing("removed")
        world.observe(removed, bkk(DAY1), "no_licence_shown")
        world.observe(removed, bkk(DAY2), gone=True)
        site_id = site.id
    with any_store.session() as session:
        known = known_listings(session, site_id)
    assert [k.marketplace_id for k in known] == ["clean", "unjudged", "again", "still", "fixed"]
    assert {k.marketplace_id for k in known if k.open_violation} == {"still", "again"}


def test_word_history_sums_runs_and_counts_violations_once(any_store: Store) -> None:
    with any_store.session() as session:
        world = World(session)
        site = world.site()
        for mid, verdict in (("a1", "no_licence_shown"), ("a2", "licensed"), ("b1", "unsafe")):
            world.observe(world.listing(mid), bkk(DAY1), verdict)
        runs = [CrawlRun(site_id=site.id, mode=PLANNED_MODE, status="finished") for _ in range(2)]
        session.add_all(runs)
        session.flush()
        record_words(session, runs[0].id, site.id, "w0", {"alpha": WordTally(2, 5, {"a1", "a2"})})
        record_words(session, runs[1].id, site.id, "w0", {"alpha": WordTally(1, 2, {"a1"})})
        record_words(
            session,
            runs[1].id,
            site.id,
            "w1",
            {"alpha": WordTally(0, 1, set()), "beta": WordTally(1, 0, {"b1"})},
        )
        runs[0].stats = {"budget": {"words": {"rotation_next": 3}}}
        runs[1].stats = {"budget": {"words": {"rotation_next": 7}}}
        site_id, last = site.id, runs[1].id
    with any_store.session() as session:
        history = word_history(session, site_id)
        assert rotation_at(session, site_id) == 7
        assert searched_words(session, last) == {"alpha", "beta"}
    alpha = history["alpha"]
    assert (alpha.runs, alpha.requests, alpha.violations, alpha.last_cost, alpha.last_run) == (
        2,
        11,
        1,
        4,
        last,
    )
    assert alpha.productivity == 1 / 11
    assert (history["beta"].requests, history["beta"].violations) == (1, 1)


def test_no_planned_run_means_the_rotation_starts_at_the_first_word(any_store: Store) -> None:
    with any_store.session() as session:
        site = World(session).site()
        session.add(CrawlRun(site_id=site.id, mode="discover", status="finished", stats={}))
        session.flush()
        assert rotation_at(session, site.id) == 0
